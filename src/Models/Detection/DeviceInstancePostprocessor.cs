using System.Runtime.InteropServices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Candidates;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.MaskPaste;
using NativeSeg.Kernels.MaskRle;
using NativeSeg.Kernels.Selection;
using NativeSeg.Models.Inference;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using CandidatesOp = NativeSeg.Kernels.Candidates.Candidates;

namespace NativeSeg.Models.Detection;

/// <summary>
/// <see cref="InstancePostprocessor"/> with the pixels and their COCO RLE made on the device: each image's boxes scaled
/// to its original size (and, for flavours that clip them, clipped, the ones left empty dropped and the rest moved up,
/// counted on the device), masks pasted the flavour's way and thresholded into whole-image bitmasks, and each mask's
/// runs counted by <see cref="MaskRle"/>; then two copies to the host for the whole batch, however many images it
/// holds — every image's detection count with all its rows of boxes, box and mask scores, labels and run counts (live or not: a few
/// kB), then the runs of every live mask one after another, which the device writes once the host knows their total.
/// The host only wraps the runs. The boxes' scales and the slot ranks follow from the batch's shapes alone and are
/// uploaded once per shape.
/// </summary>
public sealed class DeviceInstancePostprocessor(DetectorConfig config, InstancePostprocessor host) : IDisposable
{
    private const int RowWidth = 7;

    // A few shapes: a run over images of one size needs one, a folder of COCO images a handful at a time.
    private const int CachedShapes = 8;

    private readonly DeviceShapeCache<Tensor> _scales = new(CachedShapes);
    private readonly DeviceShapeCache<Tensor> _slotRanks = new(CachedShapes);

    /// <param name="detections">Each image's detections, as the device box postprocess left them.</param>
    /// <param name="masks">Each image's slot mask probabilities [capacity, M, M] on the device.</param>
    /// <param name="clock">Times the paste and the copies back when benchmarking; null in ordinary use.</param>
    public IReadOnlyList<IReadOnlyList<SegmentedInstance>> Run(IReadOnlyList<DeviceDetections> detections, IReadOnlyList<Tensor> masks,
        IReadOnlyList<ImageGeometry> geometries, StageClock? clock = null) => Run(detections, masks, geometries, [], clock).Instances;

    /// <summary>
    /// As <see cref="Run(IReadOnlyList{DeviceDetections}, IReadOnlyList{Tensor}, IReadOnlyList{ImageGeometry}, StageClock?)"/>,
    /// with <paramref name="counts"/> (int64 [1] each, a count the caller kept on the device) brought back in the
    /// first copy, so that a check of the caller's costs no copy of its own.
    /// </summary>
    public (IReadOnlyList<IReadOnlyList<SegmentedInstance>> Instances, long[] Counts) Run(IReadOnlyList<DeviceDetections> detections, IReadOnlyList<Tensor> masks,
        IReadOnlyList<ImageGeometry> geometries, IReadOnlyList<Tensor> counts, StageClock? clock)
    {
        if (detections.Count != masks.Count || detections.Count != geometries.Count)
            throw new ArgumentException($"device instances: {detections.Count} images' detections, {masks.Count} mask sets and {geometries.Count} geometries");
        using var scope = TensorScope.Begin();
        int images = detections.Count;
        var device = masks[0].Device;
        var deviceScales = _scales.Get(string.Join(";", geometries), () => DeviceConstant.Upload(Tensor.FromArray(Scales(geometries), images, 4), device));
        var rows = new List<Tensor>(images);
        var bits = new List<Tensor>(images);
        var liveCounts = new List<Tensor>(images);
        var layouts = new List<RunLayout>(images);
        for (int n = 0; n < images; n++)
        {
            var d = detections[n];
            int height = geometries[n].OriginalHeight, width = geometries[n].OriginalWidth;
            var scaled = Arithmetic.BroadcastAxis(d.Boxes.Boxes, deviceScales.Slice(n, 1).Reshape(4), BinaryOp.Mul, axis: 1);
            var (boxes, scores, maskScores, labels, pasted, count) = config.Flavour.ClipsOutputBoxes
                ? ClippedNonEmpty(scaled, d, masks[n], height, width)
                : (scaled, d.Scores, d.MaskScores, d.Labels, masks[n], d.Boxes.Count);
            var imageBits = MaskPaste.PasteBits(pasted, boxes, count, height, width, config.Flavour.Paste);
            bits.Add(imageBits);
            layouts.Add(MaskRle.Layout(imageBits, count, height, width));
            rows.Add(Concat.Forward([boxes, scores, maskScores, labels], 1));
            liveCounts.Add(count);
        }

        int longs = images + counts.Count, slots = detections.Sum(d => d.Boxes.Capacity);
        var header = Concat.Forward([Concat.Forward([.. liveCounts, .. counts], 0).Reinterpret(DType.Int32), Concat.Forward(rows, 0).Reinterpret(DType.Int32),
            Concat.Forward([.. layouts.Select(l => l.Runs)], 0)], 0).ToArray<int>();
        var live = MemoryMarshal.Cast<int, long>(header.AsSpan(0, 2 * images)).ToArray();
        var returned = MemoryMarshal.Cast<int, long>(header.AsSpan(2 * images, 2 * counts.Count)).ToArray();
        var values = MemoryMarshal.Cast<int, float>(header.AsSpan(2 * longs, slots * RowWidth)).ToArray();
        var runs = header.AsSpan(2 * longs + slots * RowWidth, slots).ToArray();
        var lengths = new List<Tensor>(images);
        for (int n = 0, slot = 0; n < images; slot += detections[n].Boxes.Capacity, n++)
        {
            live[n] = Math.Clamp(live[n], 0, detections[n].Boxes.Capacity);
            long total = runs.AsSpan(slot, (int)live[n]).ToArray().Sum(r => (long)r);
            if (total > int.MaxValue) throw new InvalidOperationException($"image {n}'s {live[n]} masks have {total} runs, more than one tensor holds");
            if (total > 0) lengths.Add(MaskRle.Encode(bits[n], liveCounts[n], layouts[n], geometries[n].OriginalHeight, geometries[n].OriginalWidth, (int)total));
        }
        var runLengths = lengths.Count == 0 ? [] : MemoryMarshal.Cast<int, uint>(Concat.Forward(lengths, 0).ToArray<int>()).ToArray();

        var result = new List<IReadOnlyList<SegmentedInstance>>(images);
        int row = 0, at = 0;
        for (int n = 0; n < images; n++)
        {
            int height = geometries[n].OriginalHeight, width = geometries[n].OriginalWidth;
            var instances = new List<SegmentedInstance>((int)live[n]);
            for (int k = 0; k < live[n]; k++)
            {
                var r = values.AsSpan((row + k) * RowWidth, RowWidth);
                var mask = new Rle(height, width, runLengths.AsSpan(at, runs[row + k]).ToArray());
                instances.Add(new SegmentedInstance(r[0], r[1], r[2], r[3], r[4], r[5], config.CategoryIds[(int)r[6]], mask));
                at += runs[row + k];
            }
            result.Add(instances);
            row += detections[n].Boxes.Capacity;
        }
        clock?.Lap(Stages.Paste);
        return (result, returned);
    }

    public void Dispose()
    {
        _scales.Dispose();
        _slotRanks.Dispose();
    }

    /// <summary>
    /// detector_postprocess on the device: the boxes clipped to the image, the live slots whose clipped box is not
    /// empty kept in their order and moved to the front with their scores, labels and masks (the mask is still the
    /// one predicted from the unclipped box, as upstream pastes it), and their count.
    /// </summary>
    private (Tensor Boxes, Tensor Scores, Tensor MaskScores, Tensor Labels, Tensor Masks, Tensor Count) ClippedNonEmpty(
        Tensor boxes, DeviceDetections detections, Tensor masks, int height, int width)
    {
        int capacity = detections.Boxes.Capacity;
        var clipped = BoxCoderOp.Clip(boxes, height, width);
        var nonEmpty = BoxCoderOp.KeepMask(clipped, 0, strict: true);
        // Slot i ranks by −i, so a descending top-k lists the kept slots in their order, then the dropped ones at −inf.
        var slots = _slotRanks.Get($"{capacity}", () => DeviceConstant.Upload(Tensor.FromArray(Enumerable.Range(0, capacity).Select(i => (float)-i).ToArray(), capacity), boxes.Device));
        var (ranks, _) = CandidatesOp.Filter(slots, nonEmpty, null, detections.Boxes.Count, new CandidateRule(float.NegativeInfinity, Strict: false));
        var (_, order) = TopK.LastDim(ranks, capacity);
        var taken = CandidatesOp.Take(order, ranks, capacity);
        return (Gather.Rows(clipped, taken.Index), Gather.Rows(detections.Scores, taken.Index), Gather.Rows(detections.MaskScores, taken.Index),
            Gather.Rows(detections.Labels, taken.Index),
            Gather.Rows(masks, taken.Index), taken.Count);
    }

    /// <summary>Each image's (x, y, x, y) scale from its network input to its original size, [images, 4] row-major.</summary>
    private float[] Scales(IReadOnlyList<ImageGeometry> geometries)
    {
        var scales = new float[geometries.Count * 4];
        for (int n = 0; n < geometries.Count; n++)
        {
            var (sx, sy) = host.Scales(geometries[n]);
            (scales[n * 4], scales[n * 4 + 1], scales[n * 4 + 2], scales[n * 4 + 3]) = (sx, sy, sx, sy);
        }
        return scales;
    }
}
