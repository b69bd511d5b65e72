using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// One residual block of a ResNet stage: a chain of convs with their frozen BatchNorm folded in, plus the
/// identity or a projection shortcut, joined by add + ReLU. Basic and bottleneck blocks differ only in the
/// chain (<see cref="BasicBlock"/>, <see cref="Bottleneck"/>).
/// </summary>
public sealed class ResidualBlock : IDisposable
{
    private readonly Conv2dLayer[] _chain;
    private readonly Conv2dLayer? _shortcut;

    private ResidualBlock(Conv2dLayer[] chain, Conv2dLayer? shortcut)
    {
        _chain = chain;
        _shortcut = shortcut;
    }

    /// <summary>
    /// Conv i + 1 of block <paramref name="block"/> of res<paramref name="stage"/> is <paramref name="chain"/>[i].
    /// The projection shortcut exists exactly when the channel count or resolution changes.
    /// </summary>
    internal static ResidualBlock Load(ParameterStore store, BackboneConfig config, BackboneNames names, int stage, int block,
        int inChannels, int outChannels, int stride, ConvSpec[] chain)
    {
        var layers = new List<Conv2dLayer>(chain.Length + 1);
        try
        {
            for (int i = 0; i < chain.Length; i++)
            {
                layers.Add(Conv2dLayer.Load(store, names.BlockConv(stage, block, i + 1), null,
                    chain[i], new FrozenNorm(names.BlockNorm(stage, block, i + 1), config.NormEps)));
            }
            Conv2dLayer? shortcut = null;
            if (inChannels != outChannels || stride != 1)
            {
                shortcut = Conv2dLayer.Load(store, names.ShortcutConv(stage), null,
                    new ConvSpec(inChannels, outChannels, 1, stride), new FrozenNorm(names.ShortcutNorm(stage), config.NormEps));
                layers.Add(shortcut);
            }
            return new ResidualBlock(layers[..chain.Length].ToArray(), shortcut);
        }
        catch
        {
            foreach (var layer in layers) layer.Dispose();
            throw;
        }
    }

    /// <summary>The block's output for an NCHW input, which stays the caller's.</summary>
    public Tensor Forward(Tensor x)
    {
        var residual = _chain[0].Forward(x);
        for (int i = 1; i < _chain.Length; i++)
        {
            using var previous = residual;
            residual = _chain[i].Forward(previous);
        }
        using (residual)
        using (var projected = _shortcut?.Forward(x))
        {
            return Arithmetic.AddRelu(residual, projected ?? x);
        }
    }

    public void Dispose()
    {
        foreach (var conv in _chain) conv.Dispose();
        _shortcut?.Dispose();
    }
}
