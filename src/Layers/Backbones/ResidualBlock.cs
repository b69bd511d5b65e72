using NativeSeg.Engine.Tensors;
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
    private readonly IConvUnit[] _chain;
    private readonly Conv2dLayer? _shortcut;

    /// <summary>
    /// Conv i + 1 of block <paramref name="block"/> of res<paramref name="stage"/> is <paramref name="chain"/>[i],
    /// deformable when it is conv <paramref name="deformableConv"/> (1-based; 0: none). The projection shortcut
    /// exists exactly when the channel count or resolution changes.
    /// </summary>
    internal ResidualBlock(ParameterStore store, BackboneConfig config, BackboneNames names, int stage, int block,
        int inChannels, int outChannels, int stride, ConvSpec[] chain, int deformableConv = 0)
        : this(store, config.NormEps, config.TrainableNorm, i => names.BlockConv(stage, block, i), i => names.BlockNorm(stage, block, i),
            names.ShortcutConv(stage), names.ShortcutNorm(stage), inChannels, outChannels, stride, chain,
            (conv, spec, norm) => conv == deformableConv
                ? new DeformConv2dLayer(store, names.BlockConv(stage, block, conv), names.BlockOffsetConv(stage, block, conv), spec, norm, config.Deformable!.Modulated)
                : null)
    {
    }

    /// <summary>
    /// A block stored as torchvision and mmcv store one under <paramref name="prefix"/>: <c>conv{i}.weight</c>,
    /// BatchNorm <c>bn{i}</c>, and the projection as <c>downsample.0.weight</c> and BatchNorm <c>downsample.1</c>.
    /// </summary>
    /// <param name="trainableNorm">Trainable BatchNorms (<see cref="BatchNorm2d"/>) rather than frozen ones.</param>
    public ResidualBlock(ParameterStore store, string prefix, double normEps, int inChannels, int outChannels, int stride, ConvSpec[] chain,
        bool trainableNorm = false)
        : this(store, normEps, trainableNorm, i => $"{prefix}.conv{i}.weight", i => $"{prefix}.bn{i}", $"{prefix}.downsample.0.weight", $"{prefix}.downsample.1",
            inChannels, outChannels, stride, chain)
    {
    }

    /// <param name="deformable">Conv i's deformable unit, or null where it is an ordinary conv.</param>
    private ResidualBlock(ParameterStore store, double normEps, bool trainableNorm, Func<int, string> convKey, Func<int, string> normKey,
        string shortcutConv, string shortcutNorm, int inChannels, int outChannels, int stride, ConvSpec[] chain,
        Func<int, ConvSpec, BatchNormSpec, DeformConv2dLayer?>? deformable = null)
    {
        _chain = new IConvUnit[chain.Length];
        for (int i = 0; i < chain.Length; i++)
        {
            int conv = i + 1;
            var norm = new BatchNormSpec(normKey(conv), normEps, trainableNorm);
            _chain[i] = deformable?.Invoke(conv, chain[i], norm) is { } unit
                ? Child(unit)
                : Child(new Conv2dLayer(store, convKey(conv), null, chain[i], norm));
        }
        if (inChannels != outChannels || stride != 1)
        {
            _shortcut = Child(new Conv2dLayer(store, shortcutConv, null,
                new ConvSpec(inChannels, outChannels, 1, stride), new BatchNormSpec(shortcutNorm, normEps, trainableNorm)));
        }
    }

    /// <summary>The block's output for an NCHW input, which stays the caller's. The last conv adds the shortcut as it stores.</summary>
    public Tensor Forward(Tensor x)
    {
        using var scope = TensorScope.Begin();
        var residual = x;
        foreach (var conv in _chain[..^1]) residual = conv.Forward(residual);
        return scope.Keep(_chain[^1].ForwardAdding(residual, _shortcut?.Forward(x) ?? x, relu: true));
    }
}
