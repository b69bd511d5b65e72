using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// The basic block of ResNet-18/34: two 3×3 convs with their frozen BatchNorm folded in (the first strided and
/// followed by ReLU), plus the identity or a projection shortcut, joined by add + ReLU.
/// </summary>
public sealed class BasicBlock : IResidualBlock
{
    private readonly Conv2dLayer _conv1, _conv2;
    private readonly Conv2dLayer? _shortcut;

    private BasicBlock(Conv2dLayer conv1, Conv2dLayer conv2, Conv2dLayer? shortcut)
    {
        _conv1 = conv1;
        _conv2 = conv2;
        _shortcut = shortcut;
    }

    /// <summary>
    /// Block <paramref name="block"/> of res<paramref name="stage"/>. Unlike the bottleneck ResNets, res2's first
    /// block keeps the stem's 64 channels, so only res3..res5 have a projection shortcut.
    /// </summary>
    public static BasicBlock Load(ParameterStore store, BackboneConfig config, BackboneNames names, int stage, int block,
        int inChannels, int outChannels, int stride)
    {
        var layers = new List<Conv2dLayer>(3);
        try
        {
            FrozenNorm Norm(int conv) => new(names.BlockNorm(stage, block, conv), config.NormEps);
            layers.Add(Conv2dLayer.Load(store, names.BlockConv(stage, block, 1), null,
                new ConvSpec(inChannels, outChannels, 3, stride, 1, Relu: true), Norm(1)));
            layers.Add(Conv2dLayer.Load(store, names.BlockConv(stage, block, 2), null,
                new ConvSpec(outChannels, outChannels, 3, 1, 1), Norm(2)));
            if (inChannels != outChannels || stride != 1)
            {
                layers.Add(Conv2dLayer.Load(store, names.ShortcutConv(stage), null,
                    new ConvSpec(inChannels, outChannels, 1, stride), new FrozenNorm(names.ShortcutNorm(stage), config.NormEps)));
            }
            return new BasicBlock(layers[0], layers[1], layers.Count > 2 ? layers[2] : null);
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
        {
            residual = _conv2.Forward(a);
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
        _shortcut?.Dispose();
    }
}
