using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Modules;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Detection.MaskHeads;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>Per FPN level the RPN head's logits [N, A, H, W] and deltas [N, 4A, H, W], and the level's anchors [H·W·A × 4].</summary>
internal sealed record RpnOutputs(IReadOnlyList<(Tensor Logits, Tensor Deltas)> Outputs, IReadOnlyList<float[]> Anchors);

/// <summary>
/// Everything of Mask R-CNN after the FPN: RPN, box head and its inference, mask head (conv-deconv or BCNet's
/// bilayer head) and (MS R-CNN) the MaskIoU head. Each stage is public so tests can feed a reference's inputs to any of them.
/// </summary>
public sealed class MaskRcnnHeads : Module
{
    private static readonly int[] NominalStrides = [4, 8, 16, 32, 64];

    private readonly RpnHead _rpn;
    private readonly BoxHead _box;
    private readonly IRoiMaskHead _mask;
    private readonly BilayerMaskHead? _bilayer;
    private readonly MaskIouHead? _maskIou;
    private readonly ProposalGenerator _proposals;
    private readonly FastRcnnOutputs _outputs;
    private readonly RoiPooler _boxPooler, _maskPooler;

    public MaskRcnnHeads(ParameterStore store, MaskRcnnConfig config)
    {
        Config = config;
        var names = config.Flavour.HeadNames;
        _rpn = Child(new RpnHead(store, names, config.FeatureChannels));
        _box = Child(new BoxHead(store, names, config));
        _bilayer = config.BilayerMask
            ? Child(new BilayerMaskHead(store, config.MaskChannels, config.MaskPredictorChannels, HeadNames.MaskHeadModule))
            : null;
        _mask = _bilayer ?? (IRoiMaskHead)Child(new MaskHead(store, names, config));
        _maskIou = config.MaskIou ? Child(new MaskIouHead(store, names, config)) : null;
        _proposals = new ProposalGenerator(config);
        _outputs = new FastRcnnOutputs(config);
        _boxPooler = new RoiPooler(config, 7);
        _maskPooler = new RoiPooler(config, 14);
    }

    public MaskRcnnConfig Config { get; }

    /// <summary>RPN proposals per image from P2..P6 of a batch padded to <paramref name="padded"/>.</summary>
    public IReadOnlyList<BoxList> Propose(IReadOnlyList<Tensor> features, (int H, int W) padded, IReadOnlyList<(int H, int W)> imageSizes)
    {
        using var scope = TensorScope.Begin();
        var rpn = RunRpn(features, padded);
        return _proposals.Generate(rpn.Outputs, rpn.Anchors, imageSizes);
    }

    /// <summary>The RPN head on every level, with each level's anchors; the outputs belong to the caller's scope.</summary>
    internal RpnOutputs RunRpn(IReadOnlyList<Tensor> features, (int H, int W) padded) =>
        new(RpnLevels(features), Anchors(features, padded));

    /// <summary>The RPN head's logits and deltas on every level, in the caller's scope.</summary>
    internal IReadOnlyList<(Tensor Logits, Tensor Deltas)> RpnLevels(IReadOnlyList<Tensor> features) => [.. features.Select(_rpn.Forward)];

    /// <summary>Each level's anchors for the sizes of <paramref name="features"/>' maps in a batch padded to <paramref name="padded"/>.</summary>
    internal IReadOnlyList<float[]> Anchors(IReadOnlyList<Tensor> features, (int H, int W) padded) =>
        [.. features.Select((f, l) => AnchorGenerator.Grid(Config.Flavour.CellAnchors(AnchorGenerator.Sizes[l], NominalStrides[l]),
            Config.Flavour.AnchorStride(NominalStrides[l], padded.H, padded.W, f.Shape[2], f.Shape[3]), f.Shape[2], f.Shape[3]))];

    /// <summary>The box head and its RoI pooler, for training.</summary>
    internal (BoxHead Head, RoiPooler Pooler) BoxBranch => (_box, _boxPooler);

    /// <summary>The conv-deconv mask head and its pooler, for training; null for a bilayer head (not trainable yet).</summary>
    internal (MaskHead? Head, RoiPooler Pooler) MaskBranch => (_mask as MaskHead, _maskPooler);

    /// <summary>MS R-CNN's MaskIoU head; null for other models.</summary>
    internal MaskIouHead? MaskIouBranch => _maskIou;

    /// <summary>Raw box-head outputs (logits, deltas) for the proposals of all images.</summary>
    public (Tensor Logits, Tensor Deltas) BoxOutputs(IReadOnlyList<Tensor> features, IReadOnlyList<BoxList> proposals)
    {
        using var scope = TensorScope.Begin();
        return scope.Keep(_box.Forward(_boxPooler.Pool(features, proposals)));
    }

    /// <summary>Final boxes per image (batch-image coordinates) from the proposals.</summary>
    public IReadOnlyList<Detections> DetectBoxes(IReadOnlyList<Tensor> features, IReadOnlyList<BoxList> proposals, IReadOnlyList<(int H, int W)> imageSizes)
    {
        if (proposals.All(p => p.Count == 0)) return proposals.Select(_ => new Detections([], [], [])).ToList();
        using var scope = TensorScope.Begin();
        var (logits, deltas) = BoxOutputs(features, proposals);
        return _outputs.Infer(logits, deltas, proposals, imageSizes);
    }

    /// <summary>Masks (and MS R-CNN mask scores) for the detections: at test time masks come from the final boxes, not the proposals.</summary>
    public IReadOnlyList<MaskDetections> PredictMasks(IReadOnlyList<Tensor> features, IReadOnlyList<Detections> detections) =>
        Masks(features, detections, explain: false).Select(m => m.Masks).ToList();

    /// <summary>As <see cref="PredictMasks"/>, with all four maps of the bilayer head per detection; throws for other mask heads.</summary>
    public IReadOnlyList<(MaskDetections Masks, IReadOnlyList<OcclusionMaps> Maps)> ExplainMasks(IReadOnlyList<Tensor> features, IReadOnlyList<Detections> detections)
    {
        if (_bilayer is null) throw new InvalidOperationException("only a bilayer mask head has occluder maps to explain its masks with");
        return Masks(features, detections, explain: true);
    }

    private IReadOnlyList<(MaskDetections Masks, IReadOnlyList<OcclusionMaps> Maps)> Masks(IReadOnlyList<Tensor> features, IReadOnlyList<Detections> detections, bool explain)
    {
        const int side = 28;
        if (detections.All(d => d.Count == 0)) return MaskDetections.PerImage(detections, [], side, null, []);
        using var scope = TensorScope.Begin();
        var labels = detections.SelectMany(d => d.Labels).ToList();
        var pooled = _maskPooler.Pool(features, detections.Select(d => d.AsBoxList()).ToList());
        if (explain)
        {
            var explained = _bilayer!.Explain(pooled, labels);
            return MaskDetections.PerImage(detections, explained.OccludeeMask.ToArray<float>(), side, null, explained.PerRoi());
        }
        var probs = _mask.Forward(pooled, labels);
        float[]? ious = _maskIou?.Forward(pooled, probs, labels);
        return MaskDetections.PerImage(detections, probs.ToArray<float>(), side, ious, []);
    }

    /// <summary>RPN, box and mask heads on a batch's features.</summary>
    /// <param name="clock">Times the RPN, box head and mask head when benchmarking; null in ordinary use.</param>
    public IReadOnlyList<MaskDetections> Forward(IReadOnlyList<Tensor> features, (int H, int W) padded, IReadOnlyList<(int H, int W)> imageSizes, StageClock? clock = null)
    {
        var proposals = Propose(features, padded, imageSizes);
        clock?.Lap(Stages.Rpn);
        var detections = DetectBoxes(features, proposals, imageSizes);
        clock?.Lap(Stages.BoxHead);
        var masks = PredictMasks(features, detections);
        clock?.Lap(Stages.MaskHead);
        return masks;
    }

    /// <summary>RPN and box head as <see cref="Forward"/> does, then <see cref="ExplainMasks"/>.</summary>
    public IReadOnlyList<(MaskDetections Masks, IReadOnlyList<OcclusionMaps> Maps)> Explain(IReadOnlyList<Tensor> features, (int H, int W) padded, IReadOnlyList<(int H, int W)> imageSizes) =>
        ExplainMasks(features, DetectBoxes(features, Propose(features, padded, imageSizes), imageSizes));
}
