using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.BoxIou;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.Detection.Flavours;

/// <summary>
/// maskrcnn-benchmark, which Mask Scoring R-CNN forks: "+1" box arithmetic, sigmoid before the RPN top-k. Its
/// models run here for inference only, so its training members throw.
/// </summary>
public sealed class MaskRcnnBenchmarkFlavour : DetectionFlavour
{
    // TO_BGR255 with Detectron's means.
    internal MaskRcnnBenchmarkFlavour()
        : base("maskrcnn-benchmark", new HeadNames(
            "rpn.head.conv", "rpn.head.cls_logits", "rpn.head.bbox_pred",
            "roi_heads.box.feature_extractor.fc6", "roi_heads.box.feature_extractor.fc7", "roi_heads.box.predictor.cls_score", "roi_heads.box.predictor.bbox_pred",
            i => $"roi_heads.mask.feature_extractor.mask_fcn{i}", "roi_heads.mask.predictor.conv5_mask", "roi_heads.mask.predictor.mask_fcn_logits"),
            pixelMean: [102.9801f, 115.9465f, 122.7717f], pixelStd: [1f, 1f, 1f], bgr: true)
    {
    }

    public override (int Height, int Width) ResizedSize(int height, int width, int minSize, int maxSize) =>
        ResizeRules.MaskRcnnBenchmark(height, width, minSize, maxSize);

    /// <summary>to_tensor divides by 255 and TO_BGR255 multiplies back, not always giving the integer back.</summary>
    public override (float Divisor, float Multiplier) PixelUnits => (255f, 255f);

    public override BoxConvention Convention => BoxConvention.MaskRcnnBenchmark;

    // Detectron's generate_anchors: ratios applied to the stride×stride base box with numpy rounding of the side
    // lengths, then scaled by size/stride, inclusive "+1" coordinates.
    public override float[] CellAnchors(int size, int stride)
    {
        double centre = 0.5 * (stride - 1), area = (double)stride * stride, scale = (double)size / stride;
        return AnchorGenerator.Cell(ratio =>
        {
            double ws = Math.Round(Math.Sqrt(area / ratio)), hs = Math.Round(ws * ratio), w = ws * scale, h = hs * scale;
            return ((float)(centre - 0.5 * (w - 1)), (float)(centre - 0.5 * (h - 1)), (float)(centre + 0.5 * (w - 1)), (float)(centre + 0.5 * (h - 1)));
        });
    }

    /// <summary>The top-k ranks the objectness after its sigmoid, which the kept proposals carry as it is.</summary>
    public override bool RanksSigmoid => true;

    public override float ClipLimit(int size) => size - 1;

    /// <summary>remove_small_boxes(0) on "+1" sides.</summary>
    public override bool KeepsProposal(ReadOnlySpan<float> decoded, float x1, float y1, float x2, float y2, float score) =>
        x2 - x1 + 1 >= 0 && y2 - y1 + 1 >= 0;

    /// <summary>
    /// <see cref="KeepsProposal"/>'s sides as x2 − x1 ≥ −1 (the same test: a float difference in [−2, −1] plus 1 is
    /// exact) and any score; the device drops a NaN score, which this keeps (a sigmoid of a NaN logit: no real
    /// checkpoint makes one).
    /// </summary>
    public override ProposalFilter ProposalFilter { get; } = new(-1f, StrictSize: false, float.NegativeInfinity, StrictScore: false);

    /// <summary>NMS per level keeping up to the post-NMS count of each, then all levels ranked together.</summary>
    public override bool CapsProposalsPerLevel => true;

    public override LevelRule LevelRule => LevelRule.MaskRcnnBenchmark;

    /// <summary>The classes' detections concatenated class by class.</summary>
    public override bool OrdersDetectionsByClass => true;

    public override bool CapKeepsTies => true;

    public override bool Trains => false;

    public override int TrainingRpnPostNmsTopK => throw NoTraining();

    public override float BoxLossBeta => throw NoTraining();

    public override IouZeroArea IouZeroArea => throw NoTraining();

    public override SampleOrder SampleOrder => throw NoTraining();

    public override IReadOnlyList<string> LossNames => throw NoTraining();

    public override float RpnLossNormaliser(int batchSizePerImage, int images, int sampled) => throw NoTraining();

    public override (float X1, float Y1, float X2, float Y2) GroundTruthCorners(CocoBox box) => throw NoTraining();

    public override bool KeepsGroundTruthBox(float x1, float y1, float x2, float y2) => throw NoTraining();

    public override bool ResizesAnnotations => throw NoTraining();

    public override MaskTargetRule MaskTargets => throw NoTraining();

    public override LayerInit LayerInit => throw NoTraining();
}
