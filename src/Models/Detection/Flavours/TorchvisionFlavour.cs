using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Kernels.BoxIou;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.Detection.Flavours;

/// <summary>torchvision 0.14's MaskRCNN and its detection references.</summary>
public sealed class TorchvisionFlavour : DetectionFlavour
{
    // ImageNet statistics on RGB in [0, 1].
    internal TorchvisionFlavour()
        : base("torchvision", new HeadNames(
            "rpn.head.conv.0.0", "rpn.head.cls_logits", "rpn.head.bbox_pred",
            "roi_heads.box_head.fc6", "roi_heads.box_head.fc7", "roi_heads.box_predictor.cls_score", "roi_heads.box_predictor.bbox_pred",
            i => $"roi_heads.mask_head.{i - 1}.0", "roi_heads.mask_predictor.conv5_mask", "roi_heads.mask_predictor.mask_fcn_logits"),
            pixelMean: [0.485f, 0.456f, 0.406f], pixelStd: [0.229f, 0.224f, 0.225f], bgr: false)
    {
    }

    public override (int Height, int Width) ResizedSize(int height, int width, int minSize, int maxSize) =>
        ResizeRules.Torchvision(height, width, minSize, maxSize);

    /// <summary>to_tensor's division by 255.</summary>
    public override (float Divisor, float Multiplier) PixelUnits => (255f, 1f);

    public override bool ResizesNormalisedImage => true;

    public override bool FlipsBeforeResize => true;

    // AnchorGenerator.generate_anchors: float32 sqrt of the ratio, then round half to even.
    public override float[] CellAnchors(int size, int stride) => AnchorGenerator.Cell(ratio =>
    {
        float hRatio = MathF.Sqrt(ratio), wRatio = 1f / hRatio, ws = wRatio * size, hs = hRatio * size;
        return (MathF.Round(-ws / 2), MathF.Round(-hs / 2), MathF.Round(ws / 2), MathF.Round(hs / 2));
    });

    /// <summary>
    /// Padded image size // map size, which for p6 of an image whose p5 has odd sides is not 64 (800 // 13 = 61).
    /// </summary>
    public override (int H, int W) AnchorStride(int nominal, int paddedH, int paddedW, int mapH, int mapW) =>
        (paddedH / mapH, paddedW / mapW);

    /// <summary>The top-k ranks logits; the kept proposals carry their sigmoid.</summary>
    public override bool ProposalsCarrySigmoid => true;

    public override bool KeepsProposal(ReadOnlySpan<float> decoded, float x1, float y1, float x2, float y2, float score) =>
        ProposalFilter.Keeps(x1, y1, x2, y2, score);

    /// <summary>remove_small_boxes(1e-3), then score_thresh 0.</summary>
    public override ProposalFilter ProposalFilter { get; } = new(1e-3f, StrictSize: false, 0f, StrictScore: false);

    public override LevelRule LevelRule => LevelRule.Torchvision;

    /// <summary>postprocess_detections' remove_small_boxes(1e-2).</summary>
    public override float? DetectionMinSize => 1e-2f;

    /// <summary>The float32 sizes divided (resize_boxes' ratios).</summary>
    public override (float X, float Y) OutputScales(ImageGeometry g) =>
        ((float)g.OriginalWidth / g.Width, (float)g.OriginalHeight / g.Height);

    public override int TrainingRpnPostNmsTopK => 2000;

    public override float BoxLossBeta => 1f / 9;

    public override IouZeroArea IouZeroArea => IouZeroArea.Divide;

    public override SampleOrder SampleOrder => SampleOrder.IndexOrder;

    public override IReadOnlyList<string> LossNames { get; } = ["loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "loss_mask"];

    /// <summary>The anchors actually sampled (at least one).</summary>
    public override float RpnLossNormaliser(int batchSizePerImage, int images, int sampled) => Math.Max(sampled, 1);

    /// <summary>ConvertCocoPolysToMask: float32 corners.</summary>
    public override (float X1, float Y1, float X2, float Y2) GroundTruthCorners(CocoBox box) =>
        ((float)box.X, (float)box.Y, (float)box.X + (float)box.Width, (float)box.Y + (float)box.Height);

    public override bool KeepsGroundTruthBox(float x1, float y1, float x2, float y2) => x2 > x1 && y2 > y1;

    public override bool ResizesAnnotations => false;

    public override MaskTargetRule MaskTargets => MaskTargetRule.PooledSoft;

    public override LayerInit LayerInit => LayerInit.PyTorchDefaults;
}
