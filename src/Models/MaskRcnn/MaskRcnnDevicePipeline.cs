using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.MaskHeads;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// Mask R-CNN's heads on a CUDA device with nothing copied back before the results: device RPN proposals, the
/// box head and its postprocess on every padded proposal slot, the mask head on every detection slot, the paste
/// into bitmasks and their COCO RLE, then <see cref="DeviceInstancePostprocessor"/>'s two copies per batch. A batch of N images is one
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
    /// The models this pipeline reproduces: the flavours whose proposal and box rules the device stages take
    /// (torchvision's and detectron2's) with the standard mask head; MS R-CNN's MaskIoU head and BCNet's bilayer head still take the host path.
    /// </summary>
    public static bool Supports(MaskRcnnConfig config) =>
        DeviceProposalGenerator.Supports(config) && DeviceBoxPostprocess.Supports(config) && !config.MaskIou && !config.BilayerMask;

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
        var maskLogits = mask!.Logits(maskPooler.Pool(features, _rois.Of([.. detections.Select(d => d.Boxes)])));
        var probabilities = MaskProbabilities.PerImage(maskLogits, detections);
        clock?.Lap(Stages.MaskHead);

        return _instances.Run(detections, probabilities, geometries, clock);
    }

    public void Dispose()
    {
        _proposals.Dispose();
        _rois.Dispose();
        _instances.Dispose();
    }
}
