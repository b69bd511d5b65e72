using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.Candidates;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Selection;
using NativeSeg.Kernels.Transpose;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using CandidatesOp = NativeSeg.Kernels.Candidates.Candidates;
using NmsOp = NativeSeg.Kernels.Nms.Nms;
using SoftmaxOp = NativeSeg.Kernels.Softmax.Softmax;

namespace NativeSeg.Models.Detection;

/// <summary>
/// <see cref="FastRcnnOutputs"/> for torchvision's box head with every step a device kernel: softmax, per-class
/// decode and clip, score and small-box filter of the proposals the device counted, NMS class by class, and
/// the best <see cref="DetectorConfig.DetectionsPerImage"/> in torchvision's order (score, then proposal, then
/// class), counted on the device. NMS runs per class rather than over all candidates at once: the same result
/// as a batched NMS, whose IoU bitmask over a thousand proposals × 90 classes would need a gigabyte.
/// </summary>
public sealed class DeviceBoxPostprocess(DetectorConfig config)
{
    public static bool Supports(DetectorConfig config) => config.Flavour.HasDevicePipeline && config.BoxClasses == config.ClassLogits;

    /// <param name="logits">[Σ capacity, classes] for all images' padded proposals, image after image.</param>
    /// <param name="deltas">[Σ capacity, 4·classes].</param>
    public IReadOnlyList<DeviceDetections> Infer(Tensor logits, Tensor deltas, IReadOnlyList<DeviceBoxes> proposals, IReadOnlyList<(int H, int W)> imageSizes)
    {
        if (!Supports(config)) throw new NotSupportedException($"the device box head postprocess reproduces torchvision's, not {config.Flavour}'s");
        var result = new List<DeviceDetections>(proposals.Count);
        int start = 0;
        for (int n = 0; n < proposals.Count; n++)
        {
            int rows = proposals[n].Capacity;
            using var scope = TensorScope.Begin();
            var d = ForImage(logits.Slice(start, rows), deltas.Slice(start, rows), proposals[n], imageSizes[n]);
            result.Add(new DeviceDetections(new DeviceBoxes(scope.Keep(d.Boxes.Boxes), scope.Keep(d.Boxes.Count)), scope.Keep(d.Scores), scope.Keep(d.Labels), scope.Keep(d.MaskRows)));
            start += rows;
        }
        return result;
    }

    private DeviceDetections ForImage(Tensor logits, Tensor deltas, DeviceBoxes proposals, (int H, int W) size)
    {
        int rows = proposals.Capacity, classes = config.ClassLogits, n = rows * classes, top = config.DetectionsPerImage;
        var probs = SoftmaxOp.LastDim(logits);
        var boxes = BoxCoderOp.Decode(deltas, proposals.Boxes, BoxWeights.RoiHeads, config.Flavour.Convention, clipTo: (size.H, size.W));
        var small = BoxCoderOp.KeepMask(boxes, 1e-2f);
        var rule = new CandidateRule(config.ScoreThreshold, Strict: true, classes, config.BackgroundIndex);
        var (filtered, labels) = CandidatesOp.Filter(probs, small, null, proposals.Count, rule);

        // Class-major, so each class's candidates are one contiguous segment for NMS.
        var segmentScores = Transpose.LastTwo(filtered.Reshape(rows, classes));
        var segmentLabels = Transpose.LastTwo(labels.Reshape(rows, classes));
        var segmentBoxes = Transpose.LastTwo(boxes.Reshape(rows, classes, 4), elementDims: 1);
        var keep = Tensor.Empty(boxes.Device, DType.Int64, classes, rows);
        keep.Fill(0xFF);
        for (int c = 0; c < classes; c++)
        {
            if (c == config.BackgroundIndex) continue;
            var (order, count) = NmsOp.BatchedPadded(segmentBoxes.Slice(c, 1).Reshape(rows, 4), segmentScores.Slice(c, 1).Reshape(rows),
                segmentLabels.Slice(c, 1).Reshape(rows), config.NmsThreshold);
            using (order)
            using (count)
            using (var row = keep.Slice(c, 1))
                row.CopyFrom(order);
        }
        var kept = CandidatesOp.KeptScores(keep, segmentScores);
        var byProposal = Transpose.LastTwo(kept).Reshape(n);
        var (_, ranking) = TopK.LastDim(byProposal, Math.Min(top, n));
        var taken = CandidatesOp.Take(ranking, byProposal, top, classes);
        var detections = new DeviceBoxes(Gather.Rows(boxes.Reshape(n, 4), taken.Index), taken.Count);
        return new DeviceDetections(detections, Gather.Rows(byProposal.Reshape(n, 1), taken.Index), taken.Column.Reshape(top, 1), taken.Select);
    }
}
