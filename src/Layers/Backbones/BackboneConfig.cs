namespace NativeSeg.Layers.Backbones;

/// <summary>Whose module names a checkpoint uses; see <see cref="BackboneNames"/> for the mapping.</summary>
public enum CheckpointLayout
{
    /// <summary><c>backbone.bottom_up.res2.0.conv1.norm.*</c>, <c>backbone.fpn_lateral2.*</c>.</summary>
    Detectron2,

    /// <summary><c>backbone.body.layer1.0.bn1.*</c>, <c>backbone.fpn.inner_blocks.0.0.*</c> (torchvision 0.14).</summary>
    Torchvision,

    /// <summary><c>backbone.body.stem.bn1.*</c>, <c>backbone.fpn.fpn_inner1.*</c> (maskrcnn-benchmark, MS R-CNN).</summary>
    MaskRcnnBenchmark,
}

/// <summary>
/// A ResNet-FPN backbone as a checkpoint defines it. <paramref name="StrideInOneByOne"/>: the MSRA weights of
/// detectron2 and maskrcnn-benchmark stride each stage's first block in its 1×1 conv; torchvision's ResNet v1.5
/// in the 3×3. <paramref name="NormEps"/> is the BatchNorm's eps. <paramref name="Prefix"/> is what comes
/// before the layout's names (with the trailing dot). <paramref name="TrainableNorm"/>: trainable BatchNorm2d layers
/// (a model trained from scratch, detectron2's NORM "BN") instead of frozen ones ("FrozenBN").
/// <paramref name="Deformable"/>: the bottleneck 3×3 convs that are deformable (none when null).
/// </summary>
public sealed record BackboneConfig(CheckpointLayout Layout, int Depth, bool StrideInOneByOne, double NormEps,
    int FpnChannels = 256, string Prefix = "backbone.", bool TrainableNorm = false, DeformableConvs? Deformable = null)
{
    /// <summary>detectron2's R50/R101-FPN with MSRA weights (STRIDE_IN_1X1 True, FrozenBN eps 1e-5).</summary>
    public static BackboneConfig Detectron2(int depth = 50) => new(CheckpointLayout.Detectron2, depth, true, 1e-5);

    /// <summary>
    /// torchvision's resnet_fpn_backbone. eps 1e-5 is BatchNorm2d's and FrozenBatchNorm2d's default; the COCO
    /// maskrcnn_resnet50_fpn weights are loaded with overwrite_eps(model, 0.0), so pass 0 for those.
    /// </summary>
    public static BackboneConfig Torchvision(int depth = 50, double normEps = 1e-5) => new(CheckpointLayout.Torchvision, depth, false, normEps);

    /// <summary>maskrcnn-benchmark (and MS R-CNN): MSRA weights, FrozenBatchNorm2d without eps.</summary>
    public static BackboneConfig MaskRcnnBenchmark(int depth = 50) => new(CheckpointLayout.MaskRcnnBenchmark, depth, true, 0);

    /// <summary>Blocks in res2..res5.</summary>
    public IReadOnlyList<int> StageBlocks => Depth switch
    {
        18 => [2, 2, 2, 2],
        34 => [3, 4, 6, 3],
        50 => [3, 4, 6, 3],
        101 => [3, 4, 23, 3],
        152 => [3, 8, 36, 3],
        _ => throw new ArgumentException($"backbone: ResNet depth {Depth} is not one of 18, 34, 50, 101, 152"),
    };

    /// <summary>ResNet-18/34 are built from two-conv basic blocks, the deeper ones from bottlenecks.</summary>
    public bool BasicBlocks => Depth < 50;

    /// <summary>Output channels of res2..res5: a bottleneck expands its width 4×, a basic block does not.</summary>
    public IReadOnlyList<int> StageChannels => BasicBlocks ? [64, 128, 256, 512] : [256, 512, 1024, 2048];
}
