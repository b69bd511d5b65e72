namespace NativeSeg.Layers.Backbones;

/// <summary>
/// Where each backbone tensor lives in a checkpoint of a given layout. Stages are numbered as detectron2 does
/// (res2..res5, FPN levels 2..5); the torchvision and maskrcnn-benchmark names are derived from that.
/// </summary>
public abstract class BackboneNames
{
    protected BackboneNames(string prefix) => Prefix = prefix;

    protected string Prefix { get; }

    public static BackboneNames For(BackboneConfig config) => config.Layout switch
    {
        CheckpointLayout.Detectron2 => new Detectron2Names(config.Prefix),
        CheckpointLayout.Torchvision => new TorchvisionNames(config.Prefix),
        CheckpointLayout.MaskRcnnBenchmark => new MaskRcnnBenchmarkNames(config.Prefix),
        _ => throw new ArgumentOutOfRangeException(nameof(config), config.Layout, "backbone: unknown checkpoint layout"),
    };

    /// <summary>The stem's 7×7 conv weight.</summary>
    public abstract string StemConv { get; }

    /// <summary>The prefix of the stem's BatchNorm tensors.</summary>
    public abstract string StemNorm { get; }

    /// <summary>Conv <paramref name="conv"/> (1..3) of block <paramref name="block"/> in res<paramref name="stage"/> (2..5).</summary>
    public abstract string BlockConv(int stage, int block, int conv);

    public abstract string BlockNorm(int stage, int block, int conv);

    /// <summary>
    /// Prefix of the conv predicting the offsets (and masks) of deformable conv <paramref name="conv"/>; only
    /// detectron2's ResNet has deformable blocks.
    /// </summary>
    public virtual string BlockOffsetConv(int stage, int block, int conv) =>
        throw new NotSupportedException($"backbone: {GetType().Name[..^"Names".Length]} checkpoints have no deformable convolutions");

    /// <summary>The projection shortcut of block 0 in res<paramref name="stage"/>.</summary>
    public abstract string ShortcutConv(int stage);

    public abstract string ShortcutNorm(int stage);

    /// <summary>Prefix of FPN level <paramref name="level"/>'s (2..5) 1×1 lateral conv (weight and bias).</summary>
    public abstract string FpnLateral(int level);

    /// <summary>Prefix of FPN level <paramref name="level"/>'s 3×3 output conv (weight and bias).</summary>
    public abstract string FpnOutput(int level);

    private sealed class Detectron2Names(string prefix) : BackboneNames(prefix)
    {
        public override string StemConv => Prefix + "bottom_up.stem.conv1.weight";

        public override string StemNorm => Prefix + "bottom_up.stem.conv1.norm";

        public override string BlockConv(int stage, int block, int conv) => $"{Prefix}bottom_up.res{stage}.{block}.conv{conv}.weight";

        public override string BlockNorm(int stage, int block, int conv) => $"{Prefix}bottom_up.res{stage}.{block}.conv{conv}.norm";

        public override string BlockOffsetConv(int stage, int block, int conv) => $"{Prefix}bottom_up.res{stage}.{block}.conv{conv}_offset";

        public override string ShortcutConv(int stage) => $"{Prefix}bottom_up.res{stage}.0.shortcut.weight";

        public override string ShortcutNorm(int stage) => $"{Prefix}bottom_up.res{stage}.0.shortcut.norm";

        public override string FpnLateral(int level) => $"{Prefix}fpn_lateral{level}";

        public override string FpnOutput(int level) => $"{Prefix}fpn_output{level}";
    }

    /// <summary>torchvision and maskrcnn-benchmark share the ResNet body's names except for the stem.</summary>
    private abstract class BodyNames(string prefix) : BackboneNames(prefix)
    {
        public override string BlockConv(int stage, int block, int conv) => $"{Prefix}body.layer{stage - 1}.{block}.conv{conv}.weight";

        public override string BlockNorm(int stage, int block, int conv) => $"{Prefix}body.layer{stage - 1}.{block}.bn{conv}";

        public override string ShortcutConv(int stage) => $"{Prefix}body.layer{stage - 1}.0.downsample.0.weight";

        public override string ShortcutNorm(int stage) => $"{Prefix}body.layer{stage - 1}.0.downsample.1";
    }

    private sealed class TorchvisionNames(string prefix) : BodyNames(prefix)
    {
        public override string StemConv => Prefix + "body.conv1.weight";

        public override string StemNorm => Prefix + "body.bn1";

        // torchvision 0.14 wraps each FPN conv in a Conv2dNormActivation (a Sequential), hence the ".0".
        public override string FpnLateral(int level) => $"{Prefix}fpn.inner_blocks.{level - 2}.0";

        public override string FpnOutput(int level) => $"{Prefix}fpn.layer_blocks.{level - 2}.0";
    }

    private sealed class MaskRcnnBenchmarkNames(string prefix) : BodyNames(prefix)
    {
        public override string StemConv => Prefix + "body.stem.conv1.weight";

        public override string StemNorm => Prefix + "body.stem.bn1";

        // fpn_inner1 is the lateral of the stride-4 map (C2): maskrcnn-benchmark numbers them from 1.
        public override string FpnLateral(int level) => $"{Prefix}fpn.fpn_inner{level - 1}";

        public override string FpnOutput(int level) => $"{Prefix}fpn.fpn_layer{level - 1}";
    }
}
