using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// The basic block of ResNet-18/34: two 3×3 convs (the first strided and followed by ReLU) and the shortcut,
/// joined by add + ReLU.
/// </summary>
public static class BasicBlock
{
    /// <summary>
    /// Block <paramref name="block"/> of res<paramref name="stage"/>. Unlike the bottleneck ResNets, res2's first
    /// block keeps the stem's 64 channels, so only res3..res5 have a projection shortcut.
    /// </summary>
    public static ResidualBlock Load(ParameterStore store, BackboneConfig config, BackboneNames names, int stage, int block,
        int inChannels, int outChannels, int stride) =>
        new(store, config, names, stage, block, inChannels, outChannels, stride, Chain(inChannels, outChannels, stride));

    /// <summary>The block's two convs: 3×3 (strided, ReLU) and 3×3.</summary>
    public static ConvSpec[] Chain(int inChannels, int outChannels, int stride) =>
    [
        new ConvSpec(inChannels, outChannels, 3, stride, 1, Relu: true),
        new ConvSpec(outChannels, outChannels, 3, 1, 1),
    ];
}
