using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Candidates;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.MaskPaste;
using NativeSeg.Kernels.Selection;
using NativeSeg.Models.Inference;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using CandidatesOp = NativeSeg.Kernels.Candidates.Candidates;

namespace NativeSeg.Models.Detection;

/// <summary>
/// <see cref="InstancePostprocessor"/> with the pixels made on the device: boxes scaled to the original image (and,
/// for flavours that clip them, clipped, the ones left empty dropped and the rest moved up, counted on the device),
/// masks pasted the flavour's way and thresholded into whole-image bitmasks, then at most three copies to the host
/// per image — the detection count, the live rows of boxes, scores and labels, and their bitmasks — from which the
/// host only reads the COCO RLE runs off the bits.
/// </summary>
public sealed class DeviceInstancePostprocessor(DetectorConfig config, InstancePostprocessor host)
{
    /// <param name="masks">Each slot's mask probabilities [capacity, M, M] on the device.</param>
    /// <param name="clock">Times the paste and the copies back when benchmarking; null in ordinary use.</param>
    public IReadOnlyList<SegmentedInstance> Run(DeviceDetections detections, Tensor masks, ImageGeometry geometry, StageClock? clock = null)
    {
        using var scope = TensorScope.Begin();
        var device = masks.Device;
        var (sx, sy) = host.Scales(geometry);
        using var hostScale = Tensor.FromArray(new[] { sx, sy, sx, sy }, 4);
        var scale = hostScale.To(device);
        int height = geometry.OriginalHeight, width = geometry.OriginalWidth;
        var scaled = Arithmetic.BroadcastAxis(detections.Boxes.Boxes, scale, BinaryOp.Mul, axis: 1);
        var (boxes, scores, labels, pasted, count) = config.Flavour.ClipsOutputBoxes
            ? ClippedNonEmpty(scaled, detections, masks, height, width)
            : (scaled, detections.Scores, detections.Labels, masks, detections.Boxes.Count);
        var bits = MaskPaste.PasteBits(pasted, boxes, count, height, width, config.Flavour.Paste);
        var rows = Concat.Forward([boxes, scores, labels], 1);

        int live = (int)count.ToArray<long>()[0];
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

    /// <summary>
    /// detector_postprocess on the device: the boxes clipped to the image, the live slots whose clipped box is not
    /// empty kept in their order and moved to the front with their scores, labels and masks (the mask is still the
    /// one predicted from the unclipped box, as upstream pastes it), and their count.
    /// </summary>
    private static (Tensor Boxes, Tensor Scores, Tensor Labels, Tensor Masks, Tensor Count) ClippedNonEmpty(
        Tensor boxes, DeviceDetections detections, Tensor masks, int height, int width)
    {
        int capacity = detections.Boxes.Capacity;
        var clipped = BoxCoderOp.Clip(boxes, height, width);
        var nonEmpty = BoxCoderOp.KeepMask(clipped, 0, strict: true);
        // Slot i ranks by −i, so a descending top-k lists the kept slots in their order, then the dropped ones at −inf.
        using var hostSlots = Tensor.FromArray(Enumerable.Range(0, capacity).Select(i => (float)-i).ToArray(), capacity);
        var slots = hostSlots.To(boxes.Device);
        var (ranks, _) = CandidatesOp.Filter(slots, nonEmpty, null, detections.Boxes.Count, new CandidateRule(float.NegativeInfinity, Strict: false));
        var (_, order) = TopK.LastDim(ranks, capacity);
        var taken = CandidatesOp.Take(order, ranks, capacity);
        return (Gather.Rows(clipped, taken.Index), Gather.Rows(detections.Scores, taken.Index), Gather.Rows(detections.Labels, taken.Index),
            Gather.Rows(masks, taken.Index), taken.Count);
    }
}
