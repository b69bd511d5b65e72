using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.MaskHeads;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.Bcnet;

/// <summary>
/// BCNet's heads on a CUDA device with nothing copied back before the results: P6/P7 and the FCOS head,
/// <see cref="DeviceFcosPostprocess"/>, RoIAlign over P3–P7 on every detection slot, the bilayer head's occludee
/// mask, then <see cref="DeviceInstancePostprocessor"/>'s clip, paste, COCO RLE and two copies back per batch. Counts stay on the
/// device; the host sizes every launch from capacities (pre-NMS top-k per level, detections per image).
/// </summary>
internal sealed class BcnetDevicePipeline(BcnetHeads heads, FcosConfig config, InstancePostprocessor host, DetectorConfig outputs) : IDisposable
{
    private readonly DeviceFcosPostprocess _detections = new(config);
    private readonly DeviceRois _rois = new();
    private readonly DeviceInstancePostprocessor _instances = new(outputs, host);

    /// <summary>All but a cut that keeps ties, whose overflow of the detection slots this pipeline does not check.</summary>
    public static bool Supports(FcosConfig config) => !config.KeepTiesAtCut;

    /// <summary>The instances of one image from its P3–P5 (which stay the caller's).</summary>
    public IReadOnlyList<SegmentedInstance> Run(IReadOnlyList<Tensor> p3ToP5, ImageGeometry geometry, StageClock? clock)
    {
        using var scope = TensorScope.Begin();
        IReadOnlyList<Tensor> pyramid = [.. p3ToP5, .. heads.Top.Forward(p3ToP5[2])];
        var levels = heads.Head.Forward(pyramid);
        var detections = _detections.Run(levels, 0).Detections;
        clock?.Lap(Stages.FcosHead);

        var pooled = PyramidRoiPooler.Pool(pyramid, _rois.Of([detections.Boxes]), FcosConfig.MinLevel);
        var probabilities = MaskProbabilities.PerImage(heads.Mask.Logits(pooled), [detections])[0];
        clock?.Lap(Stages.MaskHead);
        return _instances.Run([detections], [probabilities], [geometry], clock)[0];
    }

    public void Dispose()
    {
        _detections.Dispose();
        _rois.Dispose();
        _instances.Dispose();
    }
}
