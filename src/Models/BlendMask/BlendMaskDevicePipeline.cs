using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.BlendMask;

/// <summary>
/// BlendMask from its pyramid to the final instances on a CUDA device, with nothing copied back before the results:
/// the FCOS head and <see cref="DeviceFcosPostprocess"/> (whose cut keeps the ties with the last detection, in twice
/// the detections per image), the basis module, the top layer's attentions at each detection slot's location
/// (<see cref="DeviceAttentionPatches"/>), the <see cref="Blender"/> over the bases pooled with every slot's unclipped
/// box, then <see cref="DeviceInstancePostprocessor"/>'s clip, paste and two copies back, the first of which also
/// brings the count the cut kept. Counts stay on the device; the host sizes every launch from capacities.
/// </summary>
internal sealed class BlendMaskDevicePipeline(FcosHead head, BasisModule basis, AttentionLayer attention, Blender blender, FcosConfig config,
    InstancePostprocessor host, DetectorConfig outputs) : IDisposable
{
    private readonly DeviceFcosPostprocess _detections = new(config);
    private readonly DeviceAttentionPatches _patches = new();
    private readonly DeviceRois _rois = new();
    private readonly DeviceInstancePostprocessor _instances = new(outputs, host);

    /// <summary>
    /// The instances of one image from its pyramid P3 up (which stays the caller's); null when more detections tied
    /// at the cut than the slots hold, which only the host path can keep (it is rare: the ties are exact float ties).
    /// </summary>
    public IReadOnlyList<SegmentedInstance>? Run(IReadOnlyList<Tensor> pyramid, ImageGeometry geometry, StageClock? clock)
    {
        using var scope = TensorScope.Begin();
        var levels = head.Forward(pyramid);
        var found = _detections.Run(levels, 0);
        clock?.Lap(Stages.FcosHead);
        var bases = basis.Forward(pyramid);
        clock?.Lap(Stages.Bases);

        var detections = found.Detections;
        var attentions = attention.Forward(_patches.Patches([.. levels.Select(l => l.BoxFeatures!)], found.Locations));
        var probabilities = blender.Forward(bases, _rois.Of([detections.Boxes]), attentions);
        clock?.Lap(Stages.Blender);
        var (instances, kept) = _instances.Run([detections], [probabilities], [geometry], [found.Kept], clock);
        return kept[0] <= detections.Boxes.Capacity ? instances[0] : null;
    }

    public void Dispose()
    {
        _detections.Dispose();
        _patches.Dispose();
        _rois.Dispose();
        _instances.Dispose();
    }
}
