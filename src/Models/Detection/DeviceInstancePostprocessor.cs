using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.MaskPaste;
using NativeSeg.Models.Inference;

namespace NativeSeg.Models.Detection;

/// <summary>
/// <see cref="InstancePostprocessor"/> for torchvision's paste with the pixels made on the device: boxes scaled
/// to the original image, masks pasted and thresholded into whole-image bitmasks, then at most three copies to
/// the host per image — the detection count, the live rows of boxes, scores and labels, and their bitmasks —
/// from which the host only reads the COCO RLE runs off the bits.
/// </summary>
public sealed class DeviceInstancePostprocessor(DetectorConfig config, InstancePostprocessor host)
{
    public static bool Supports(DetectorConfig config) => config.Flavour.HasDevicePipeline;

    /// <param name="masks">Each slot's mask probabilities [capacity, M, M] on the device.</param>
    /// <param name="clock">Times the paste and the copies back when benchmarking; null in ordinary use.</param>
    public IReadOnlyList<SegmentedInstance> Run(DeviceDetections detections, Tensor masks, ImageGeometry geometry, StageClock? clock = null)
    {
        if (!Supports(config)) throw new NotSupportedException($"the device paste reproduces torchvision's, not {config.Flavour}'s");
        using var scope = TensorScope.Begin();
        var device = masks.Device;
        var (sx, sy) = host.Scales(geometry);
        using var hostScale = Tensor.FromArray(new[] { sx, sy, sx, sy }, 4);
        var scale = hostScale.To(device);
        var boxes = Arithmetic.BroadcastAxis(detections.Boxes.Boxes, scale, BinaryOp.Mul, axis: 1);
        int height = geometry.OriginalHeight, width = geometry.OriginalWidth;
        var bits = MaskPaste.PasteBits(masks, boxes, detections.Boxes.Count, height, width);
        var rows = Concat.Forward([boxes, detections.Scores, detections.Labels], 1);

        int live = (int)detections.Boxes.Count.ToArray<long>()[0];
        if (live == 0)
        {
            clock?.Lap(Stages.Paste);
            return [];
        }
        var values = rows.Slice(0, live).ToArray<float>();
        var words = bits.Slice(0, live).ToArray<int>();
        int stride = words.Length / live;
        var result = new List<SegmentedInstance>(live);
        for (int k = 0; k < live; k++)
        {
            var r = values.AsSpan(k * 6, 6);
            var mask = BitmaskRle.FromColumnMajorBits(words.AsSpan(k * stride, stride), height, width);
            result.Add(new SegmentedInstance(r[0], r[1], r[2], r[3], r[4], r[4], config.CategoryIds[(int)r[5]], mask));
        }
        clock?.Lap(Stages.Paste);
        return result;
    }
}
