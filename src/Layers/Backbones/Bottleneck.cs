using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// A ResNet bottleneck block: 1×1 reduce, 3×3, 1×1 expand, each with its frozen BatchNorm folded in, plus the
/// identity or a projection shortcut, joined by add + ReLU.
/// </summary>
public sealed class Bottleneck : IResidualBlock
{
    private readonly Conv2dLayer _conv1, _conv2, _conv3;
    private readonly Conv2dLayer? _shortcut;

    private Bottleneck(Conv2dLayer conv1, Conv2dLayer conv2, Conv2dLayer conv3, Conv2dLayer? shortcut)
    {
        _conv1 = conv1;
        _conv2 = conv2;
        _conv3 = conv3;
        _shortcut = shortcut;
    }

    /// <summary>
    /// Block <paramref name="block"/> of res<paramref name="stage"/>. The projection shortcut exists exactly when
    /// the channel count or resolution changes, which in R50/101 is every stage's block 0 (res2.0 included).
    /// </summary>
    public static Bottleneck Load(ParameterStore store, BackboneConfig config, BackboneNames names, int stage, int block,
        int inChannels, int bottleneckChannels, int outChannels, int stride)
    {
        var (stride1, stride3) = config.StrideInOneByOne ? (stride, 1) : (1, stride);
        var layers = new List<Conv2dLayer>(4);
        try
        {
            FrozenNorm Norm(int conv) => new(names.BlockNorm(stage, block, conv), config.NormEps);
            layers.Add(Conv2dLayer.Load(store, names.BlockConv(stage, block, 1), null,
                new ConvSpec(inChannels, bottleneckChannels, 1, stride1, Relu: true), Norm(1)));
            layers.Add(Conv2dLayer.Load(store, names.BlockConv(stage, block, 2), null,
                new ConvSpec(bottleneckChannels, bottleneckChannels, 3, stride3, 1, Relu: true), Norm(2)));
            layers.Add(Conv2dLayer.Load(store, names.BlockConv(stage, block, 3), null,
                new ConvSpec(bottleneckChannels, outChannels, 1), Norm(3)));
            if (inChannels != outChannels || stride != 1)
            {
                layers.Add(Conv2dLayer.Load(store, names.ShortcutConv(stage), null,
                    new ConvSpec(inChannels, outChannels, 1, stride), new FrozenNorm(names.ShortcutNorm(stage), config.NormEps)));
            }
            return new Bottleneck(layers[0], layers[1], layers[2], layers.Count > 3 ? layers[3] : null);
        }
        catch
        {
            foreach (var layer in layers) layer.Dispose();
            throw;
        }
    }

    public Tensor Forward(Tensor x)
    {
        Tensor residual;
        using (var a = _conv1.Forward(x))
        using (var b = _conv2.Forward(a))
        {
            residual = _conv3.Forward(b);
        }
        using (residual)
        using (var projected = _shortcut?.Forward(x))
        {
            return Arithmetic.AddRelu(residual, projected ?? x);
        }
    }

    public void Dispose()
    {
        _conv1.Dispose();
        _conv2.Dispose();
        _conv3.Dispose();
        _shortcut?.Dispose();
    }
}
