using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Kernels.BoxIou;
using NativeSeg.Kernels.MaskPaste;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.Detection.Flavours;

/// <summary>detectron2's conventions (and AdelaiDet's, which runs on it).</summary>
public sealed class Detectron2Flavour : DetectionFlavour
{
    // MSRA weights' statistics on BGR 0..255 (PIXEL_MEAN, PIXEL_STD, INPUT.FORMAT BGR).
    internal Detectron2Flavour()
        : base("detectron2", new HeadNames(
            "proposal_generator.rpn_head.conv", "proposal_generator.rpn_head.objectness_logits", "proposal_generator.rpn_head.anchor_deltas",
            "roi_heads.box_head.fc1", "roi_heads.box_head.fc2", "roi_heads.box_predictor.cls_score", "roi_heads.box_predictor.bbox_pred",
            i => $"{HeadNames.MaskHeadModule}mask_fcn{i}", HeadNames.MaskHeadModule + "deconv", HeadNames.MaskHeadModule + "predictor"),
            pixelMean: [103.530f, 116.280f, 123.675f], pixelStd: [1f, 1f, 1f], bgr: true)
    {
    }

    public override (int Height, int Width) ResizedSize(int height, int width, int minSize, int maxSize) =>
        ResizeRules.Detectron2(height, width, minSize, maxSize);

    public override (float Divisor, float Multiplier) PixelUnits => (1f, 1f);

    // DefaultAnchorGenerator: w = sqrt(size²/ratio), h = ratio·w in double, halved, unrounded.
    public override float[] CellAnchors(int size, int stride) => AnchorGenerator.Cell(ratio =>
    {
        double w = Math.Sqrt((double)size * size / ratio), h = ratio * w;
        return ((float)(-w / 2), (float)(-h / 2), (float)(w / 2), (float)(h / 2));
    });

    /// <summary>find_top_rpn_proposals drops non-finite boxes and scores, then boxes left empty by the clip.</summary>
    public override bool KeepsProposal(ReadOnlySpan<float> decoded, float x1, float y1, float x2, float y2, float score) =>
        float.IsFinite(decoded[0]) && float.IsFinite(decoded[1]) && float.IsFinite(decoded[2]) && float.IsFinite(decoded[3])
        && float.IsFinite(score) && ProposalFilter.Keeps(x1, y1, x2, y2, score);

    /// <summary>
    /// Boxes.nonempty after the clip; a logit above −inf (the device keeps a +inf logit, which the finite test above
    /// drops: no real checkpoint makes one).
    /// </summary>
    public override ProposalFilter ProposalFilter { get; } = new(0f, StrictSize: true, float.NegativeInfinity, StrictScore: true);

    public override LevelRule LevelRule => LevelRule.Detectron2;

    /// <summary>ROIAlignV2: aligned, adaptive sampling.</summary>
    public override RoiAlignOptions Pooling(int size) => new(size, size, 0, true);

    public override PasteMethod Paste => PasteMethod.Detectron2;

    public override bool ClipsOutputBoxes => true;

    public override int TrainingRpnPostNmsTopK => 1000;

    /// <summary>SMOOTH_L1_BETA 0: an L1 loss.</summary>
    public override float BoxLossBeta => 0f;

    public override IouZeroArea IouZeroArea => IouZeroArea.Zero;

    public override SampleOrder SampleOrder => SampleOrder.PositivesFirst;

    public override IReadOnlyList<string> LossNames { get; } = ["loss_rpn_cls", "loss_rpn_loc", "loss_cls", "loss_box_reg", "loss_mask"];

    /// <summary>The anchors the sampler asks for (BATCH_SIZE_PER_IMAGE × images), however many it found.</summary>
    public override float RpnLossNormaliser(int batchSizePerImage, int images, int sampled) => batchSizePerImage * images;

    /// <summary>BoxMode.convert: corners summed in double.</summary>
    public override (float X1, float Y1, float X2, float Y2) GroundTruthCorners(CocoBox box) =>
        ((float)box.X, (float)box.Y, (float)(box.X + box.Width), (float)(box.Y + box.Height));

    /// <summary>Boxes.nonempty: both sides above 1e-5.</summary>
    public override bool KeepsGroundTruthBox(float x1, float y1, float x2, float y2) => x2 - x1 > 1e-5f && y2 - y1 > 1e-5f;

    public override bool ResizesAnnotations => true;

    public override MaskTargetRule MaskTargets => MaskTargetRule.RasterisedPolygons;

    public override LayerInit LayerInit => LayerInit.Detectron2Normal;
}
