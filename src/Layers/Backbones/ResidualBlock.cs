using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Autograd;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// One residual block of a ResNet stage: a chain of conv + BatchNorm units, plus the identity or a projection
/// shortcut, joined by add + ReLU. Basic and bottleneck blocks differ only in the chain (<see cref="BasicBlock"/>,
/// <see cref="Bottleneck"/>).
/// </summary>
public sealed class ResidualBlock : Module
{
    private readonly Conv2dLayer[] _chain;
    private readonly Conv2dLayer? _shortcut;

    /// <summary>
    /// Conv i + 1 of block <paramref name="block"/> of res<paramref name="stage"/> is <paramref name="chain"/>[i].
    /// The projection shortcut exists exactly when the channel count or resolution changes.
    /// </summary>
    internal ResidualBlock(ParameterStore store, BackboneConfig config, BackboneNames names, int stage, int block,
        int inChannels, int outChannels, int stride, ConvSpec[] chain)
    {
        _chain = new Conv2dLayer[chain.Length];
        for (int i = 0; i < chain.Length; i++)
        {
            _chain[i] = Child(new Conv2dLayer(store, names.BlockConv(stage, block, i + 1), null,
                chain[i], new BatchNormSpec(names.BlockNorm(stage, block, i + 1), config.NormEps, config.TrainableNorm)));
        }
        if (inChannels != outChannels || stride != 1)
        {
            _shortcut = Child(new Conv2dLayer(store, names.ShortcutConv(stage), null,
                new ConvSpec(inChannels, outChannels, 1, stride), new BatchNormSpec(names.ShortcutNorm(stage), config.NormEps, config.TrainableNorm)));
        }
    }

    /// <summary>The block's output for an NCHW input, which stays the caller's.</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = TensorScope.Begin();
        var residual = x;
        foreach (var conv in _chain) residual = conv.Forward(residual);
        return scope.Keep(Functional.AddRelu(residual, _shortcut?.Forward(x) ?? x));
    }
}
