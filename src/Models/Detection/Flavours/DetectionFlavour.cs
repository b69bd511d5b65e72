using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.BoxIou;
using NativeSeg.Kernels.MaskPaste;
using NativeSeg.Kernels.RoiAlign;

namespace NativeSeg.Models.Detection.Flavours;

/// <summary>
/// Whose conventions a detector follows: every rule in which detectron2, torchvision and maskrcnn-benchmark differ
/// (spec §2.4, §4, §1.13), one member each, so the shared stages ask the flavour instead of asking which framework
/// it is. The kernels keep plain parameters (box convention, level rule, RoIAlign options, paste method, IoU of
/// empty boxes); the flavour is what picks their values. Members with a body here are the rule two of the three
/// frameworks share; the third overrides it. See README.md in this folder for the list and for adding a flavour.
/// </summary>
public abstract class DetectionFlavour
{
    public static DetectionFlavour Detectron2 { get; } = new Detectron2Flavour();

    public static DetectionFlavour Torchvision { get; } = new TorchvisionFlavour();

    public static DetectionFlavour MaskRcnnBenchmark { get; } = new MaskRcnnBenchmarkFlavour();

    /// <param name="name">The framework's own name, for messages.</param>
    /// <param name="headNames">Its checkpoint names of the R-CNN heads.</param>
    /// <param name="pixelMean">Its default pixel mean, in the network's channel order and <see cref="PixelUnits"/>.</param>
    /// <param name="pixelStd">Its default pixel std, likewise.</param>
    /// <param name="bgr">Whether its networks take BGR (the MSRA/Detectron weights) rather than RGB.</param>
    protected DetectionFlavour(string name, HeadNames headNames, float[] pixelMean, float[] pixelStd, bool bgr) =>
        (Name, HeadNames, PixelMean, PixelStd, Bgr) = (name, headNames, pixelMean, pixelStd, bgr);

    public string Name { get; }

    public override string ToString() => Name;

    // ---- Input pipeline ----

    public IReadOnlyList<float> PixelMean { get; }

    public IReadOnlyList<float> PixelStd { get; }

    public bool Bgr { get; }

    /// <summary>The test-time "shortest edge to min, longest at most max" size, rounded the framework's way.</summary>
    public abstract (int Height, int Width) ResizedSize(int height, int width, int minSize, int maxSize);

    /// <summary>
    /// A uint8 pixel in the units the mean and std apply to is <c>v / Divisor · Multiplier</c>, computed in float32 as
    /// torch does (so 255 and 1 for v / 255, not v · (1 / 255)).
    /// </summary>
    public abstract (float Divisor, float Multiplier) PixelUnits { get; }

    /// <summary>
    /// True: normalise the full-size image, then resize the floats bilinearly (GeneralizedRCNNTransform). False:
    /// Pillow-resize the uint8 image, then normalise.
    /// </summary>
    public virtual bool ResizesNormalisedImage => false;

    /// <summary>Training flips the decoded image before the resize (torchvision's references) rather than the resized one.</summary>
    public virtual bool FlipsBeforeResize => false;

    // ---- Boxes, anchors and proposals ----

    /// <summary>Box arithmetic of the coder, NMS and clipping.</summary>
    public virtual BoxConvention Convention => BoxConvention.Detectron2;

    /// <summary>NMS with the inclusive "+1" pixel arithmetic, as the box convention has it.</summary>
    public bool PlusOne => Convention == BoxConvention.MaskRcnnBenchmark;

    /// <summary>The cell anchors [3 × (x1, y1, x2, y2)] of one level, centred on the cell's origin.</summary>
    public abstract float[] CellAnchors(int size, int stride);

    /// <summary>The anchor grid's stride (height, width) on a feature map.</summary>
    public virtual (int H, int W) AnchorStride(int nominal, int paddedH, int paddedW, int mapH, int mapW) => (nominal, nominal);

    /// <summary>The RPN score the per-level top-k ranks by, from the objectness logit.</summary>
    public float RankingScore(float logit) => RanksSigmoid ? Sigmoid(logit) : logit;

    /// <summary>
    /// The per-level top-k ranks the objectness's sigmoid rather than its logit: the same order but where the sigmoid
    /// rounds distinct logits to one float, whose ties then go to the lower anchor index.
    /// </summary>
    public virtual bool RanksSigmoid => false;

    /// <summary>The proposal score kept after the top-k, from the ranked score.</summary>
    public float ProposalScore(float ranked) => ProposalsCarrySigmoid ? Sigmoid(ranked) : ranked;

    /// <summary>Kept proposals carry the sigmoid of the ranked logit rather than the ranked score itself.</summary>
    public virtual bool ProposalsCarrySigmoid => false;

    /// <summary>The largest coordinate a proposal is clipped to on an image side of <paramref name="size"/> pixels.</summary>
    public virtual float ClipLimit(int size) => size;

    /// <summary>Whether a decoded proposal survives: <paramref name="decoded"/> before clipping, the corners after.</summary>
    public abstract bool KeepsProposal(ReadOnlySpan<float> decoded, float x1, float y1, float x2, float y2, float score);

    /// <summary>The clipped-size and score part of <see cref="KeepsProposal"/> as the device RPN applies it.</summary>
    public abstract ProposalFilter ProposalFilter { get; }

    /// <summary>The post-NMS proposal count applies to each level as well as to the image.</summary>
    public virtual bool CapsProposalsPerLevel => false;

    // ---- RoI heads and outputs ----

    /// <summary>Checkpoint names of the RPN, box, mask and MaskIoU heads.</summary>
    public HeadNames HeadNames { get; }

    public abstract LevelRule LevelRule { get; }

    /// <summary>RoIAlign of a <paramref name="size"/> × <paramref name="size"/> head input: legacy kernel, 2 samples per bin side.</summary>
    public virtual RoiAlignOptions Pooling(int size) => new(size, size, 2, false);

    /// <summary>Whether a class-specific decoded detection box is kept before NMS.</summary>
    public bool KeepsDetectionBox(ReadOnlySpan<float> box) =>
        DetectionMinSize is not float min || (box[2] - box[0] >= min && box[3] - box[1] >= min);

    /// <summary>The side both sides of a detection box must reach to be kept before NMS; null keeps every box.</summary>
    public virtual float? DetectionMinSize => null;

    /// <summary>
    /// The detections kept of <paramref name="nmsOrder"/> (candidate indices by descending score) under the per-image
    /// <paramref name="cap"/>, in output order: the first <paramref name="cap"/> (with <see cref="CapKeepsTies"/>, every
    /// score at least the cap-th largest), by class where <see cref="OrdersDetectionsByClass"/>.
    /// </summary>
    public List<int> CapDetections(List<int> nmsOrder, IReadOnlyList<float> scores, IReadOnlyList<long> labels, int cap)
    {
        var kept = nmsOrder;
        if (nmsOrder.Count > cap)
        {
            float threshold = scores[nmsOrder[cap - 1]];
            kept = CapKeepsTies ? [.. nmsOrder.Where(i => scores[i] >= threshold)] : [.. nmsOrder.Take(cap)];
        }
        return OrdersDetectionsByClass ? [.. kept.OrderBy(i => labels[i])] : kept;
    }

    /// <summary>
    /// Detections come out class by class (in ascending logit index, each class by descending score) rather than by
    /// descending score.
    /// </summary>
    public virtual bool OrdersDetectionsByClass => false;

    /// <summary>Above the per-image cap, every detection scoring at least the cap-th largest is kept (kthvalue), so ties can keep more.</summary>
    public virtual bool CapKeepsTies => false;

    // ---- Postprocessing ----

    public virtual PasteMethod Paste => PasteMethod.Torchvision;

    /// <summary>Boxes are clipped to the original image and dropped when left empty (detector_postprocess).</summary>
    public virtual bool ClipsOutputBoxes => false;

    /// <summary>
    /// Batch image to original image scales (x, y): the size ratios in Python floats, applied to the float32 boxes.
    /// </summary>
    public virtual (float X, float Y) OutputScales(ImageGeometry g) =>
        ((float)((double)g.OriginalWidth / g.Width), (float)((double)g.OriginalHeight / g.Height));

    // ---- Training ----

    /// <summary>Whether NativeSeg trains models of this flavour; the training members below throw when not.</summary>
    public virtual bool Trains => true;

    /// <summary>RPN proposals kept per image after NMS in training.</summary>
    public abstract int TrainingRpnPostNmsTopK { get; }

    /// <summary>Smooth-L1 beta of the RPN and box losses.</summary>
    public abstract float BoxLossBeta { get; }

    /// <summary>What the matchers' IoU is when both boxes are empty.</summary>
    public abstract IouZeroArea IouZeroArea { get; }

    public abstract SampleOrder SampleOrder { get; }

    /// <summary>The five loss names in the framework's spelling: RPN objectness, RPN boxes, classifier, box regression, mask.</summary>
    public abstract IReadOnlyList<string> LossNames { get; }

    /// <summary>The RPN losses' divisor for a batch of <paramref name="images"/> with <paramref name="sampled"/> anchors drawn in all.</summary>
    public abstract float RpnLossNormaliser(int batchSizePerImage, int images, int sampled);

    /// <summary>A COCO [x, y, w, h] box as float32 corners (before clipping).</summary>
    public abstract (float X1, float Y1, float X2, float Y2) GroundTruthCorners(CocoBox box);

    /// <summary>Whether a clipped ground-truth box is kept (not empty).</summary>
    public abstract bool KeepsGroundTruthBox(float x1, float y1, float x2, float y2);

    /// <summary>
    /// True: annotations move to the resized (and flipped) frame before targets are built from them (detectron2's
    /// transform_instance_annotations). False: targets are built at the original size, then scaled.
    /// </summary>
    public abstract bool ResizesAnnotations { get; }

    public abstract MaskTargetRule MaskTargets { get; }

    /// <summary>How fresh class-specific layers (and, for PyTorch defaults, a model from scratch) are initialised.</summary>
    public abstract LayerInit LayerInit { get; }

    /// <summary>The logistic function in float32, as torch's sigmoid of a float tensor.</summary>
    protected static float Sigmoid(float v) => 1f / (1f + MathF.Exp(-v));

    /// <summary>The error a training member of a flavour that does not train throws.</summary>
    protected NotSupportedException NoTraining() =>
        new($"training is implemented for the torchvision and detectron2 flavours, not {Name}");
}
