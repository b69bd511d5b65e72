using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.MaskHeads;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// Mask R-CNN's heads on a CUDA device with nothing copied back before the results: device RPN proposals, the
/// box head and its postprocess on every padded proposal slot, the mask head (and MS R-CNN's MaskIoU head with its
/// rescoring) on every detection slot, the paste into bitmasks and their COCO RLE, then
/// <see cref="DeviceInstancePostprocessor"/>'s two copies per batch. A batch of N images is one
/// padded forward whose proposals, detections and masks are made per image; intermediate counts stay on the
/// device, and the host sizes every launch from capacities (pre- and post-NMS top-k, detections per image).
/// </summary>
internal sealed class MaskRcnnDevicePipeline(MaskRcnnHeads heads, InstancePostprocessor host) : IDisposable
{
    private readonly DeviceProposalGenerator _proposals = new(heads.Config);
    private readonly DeviceBoxPostprocess _boxes = new(heads.Config);
    private readonly DeviceRois _rois = new();
    private readonly DeviceInstancePostprocessor _instances = new(heads.Config, host);

    /// <summary>
    /// The models this pipeline reproduces: every flavour with the standard mask head (and a MaskIoU head whose
    /// classes are the box classes, so a slot's mask row names its IoU too); BCNet's bilayer head still takes the host path.
    /// </summary>
    public static bool Supports(MaskRcnnConfig config) => !config.BilayerMask && (!config.MaskIou || config.BoxClasses == config.ClassLogits);

    public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Run(IReadOnlyList<Tensor> features, (int H, int W) padded, IReadOnlyList<ImageGeometry> geometries, StageClock? clock)
    {
        var sizes = geometries.Select(g => (g.Height, g.Width)).ToList();
        var proposals = _proposals.Generate(heads.RpnLevels(features), padded, () => heads.Anchors(features, padded), sizes);
        clock?.Lap(Stages.Rpn);

        var (box, boxPooler) = heads.BoxBranch;
        var (logits, deltas) = box.Forward(boxPooler.Pool(features, _rois.Of(proposals)));
        var detections = _boxes.Infer(logits, deltas, proposals, sizes);
        clock?.Lap(Stages.BoxHead);

        var (mask, maskPooler) = heads.MaskBranch;
        var pooled = maskPooler.Pool(features, _rois.Of([.. detections.Select(d => d.Boxes)]));
        var probabilities = MaskProbabilities.PerImage(mask!.Logits(pooled), detections);
        if (heads.MaskIouBranch is { } maskIou) detections = Rescored(maskIou, pooled, probabilities, detections);
        clock?.Lap(Stages.MaskHead);

        return _instances.Run(detections, probabilities, geometries, clock);
    }

    /// <summary>
    /// MS R-CNN's mask scores on every slot: the box score times the MaskIoU head's IoU of the slot's class, predicted
    /// from the slot's pooled features and its class's mask probabilities, as the host scores them.
    /// </summary>
    private static IReadOnlyList<DeviceDetections> Rescored(MaskIouHead maskIou, Tensor pooled, IReadOnlyList<Tensor> probabilities, IReadOnlyList<DeviceDetections> detections)
    {
        var ious = maskIou.AllClasses(pooled, Concat.Forward(probabilities, 0));
        int classes = ious.Shape[1], start = 0;
        var result = new List<DeviceDetections>(detections.Count);
        foreach (var d in detections)
        {
            int slots = d.Boxes.Capacity;
            var iou = Gather.Rows(ious.Slice(start, slots).Reshape(slots * classes, 1), d.MaskRows);
            result.Add(d with { MaskScores = Arithmetic.Mul(d.Scores, iou) });
            start += slots;
        }
        return result;
    }

    public void Dispose()
    {
        _proposals.Dispose();
        _rois.Dispose();
        _instances.Dispose();
    }
}
