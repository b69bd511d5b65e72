using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Backbones;

/// <summary>
/// A ResNet bottleneck block: 1×1 reduce, 3×3, 1×1 expand and the shortcut, joined by add + ReLU.
/// </summary>
public static class Bottleneck
{
    /// <summary>
    /// Block <paramref name="block"/> of res<paramref name="stage"/>. The projection shortcut exists exactly when
    /// the channel count or resolution changes, which in R50/101 is every stage's block 0 (res2.0 included).
    /// The 3×3 conv is deformable where the config's <see cref="DeformableConvs"/> say so.
    /// </summary>
    public static ResidualBlock Load(ParameterStore store, BackboneConfig config, BackboneNames names, int stage, int block,
        int inChannels, int bottleneckChannels, int outChannels, int stride)
    {
        var (stride1, stride3) = config.StrideInOneByOne ? (stride, 1) : (1, stride);
        return new ResidualBlock(store, config, names, stage, block, inChannels, outChannels, stride,
            Chain(inChannels, bottleneckChannels, outChannels, stride1, stride3), deformableConv: config.Deformable?.Applies(stage, block) == true ? 2 : 0);
    }

    /// <summary>The block's three convs: 1×1 reduce (ReLU), 3×3 (ReLU), 1×1 expand, with their strides.</summary>
    public static ConvSpec[] Chain(int inChannels, int bottleneckChannels, int outChannels, int stride1 = 1, int stride3 = 1) =>
    [
        new ConvSpec(inChannels, bottleneckChannels, 1, stride1, Relu: true),
        new ConvSpec(bottleneckChannels, bottleneckChannels, 3, stride3, 1, Relu: true),
        new ConvSpec(bottleneckChannels, outChannels, 1),
    ];
}
