using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using NmsOp = NativeSeg.Kernels.Nms.Nms;
using SoftmaxOp = NativeSeg.Kernels.Softmax.Softmax;

namespace NativeSeg.Models.Detection;

/// <summary>
/// Box-head inference: softmax, class-specific decode with weights (10, 10, 5, 5), clip, score threshold,
/// per-class NMS and the per-image cap, with each flavour's filtering and output order.
/// </summary>
public sealed class FastRcnnOutputs(DetectorConfig config)
{
    /// <param name="logits">[R, classes] for all images' proposals, image after image.</param>
    /// <param name="deltas">[R, 4·box classes].</param>
    public IReadOnlyList<Detections> Infer(Tensor logits, Tensor deltas, IReadOnlyList<BoxList> proposals, IReadOnlyList<(int H, int W)> imageSizes)
    {
        using var hostLogits = logits.To(Engine.Devices.Device.Cpu);
        using var probs = SoftmaxOp.LastDim(hostLogits);
        using var hostDeltas = deltas.To(Engine.Devices.Device.Cpu);
        var result = new List<Detections>(proposals.Count);
        int start = 0;
        for (int n = 0; n < proposals.Count; n++)
        {
            int count = proposals[n].Count;
            using var p = probs.Slice(start, count);
            using var d = hostDeltas.Slice(start, count);
            result.Add(ForImage(p, d, proposals[n], imageSizes[n]));
            start += count;
        }
        return result;
    }

    private Detections ForImage(Tensor probs, Tensor deltas, BoxList proposals, (int H, int W) size)
    {
        var flavour = config.Flavour;
        int classes = config.ClassLogits, boxClasses = config.BoxClasses, rois = proposals.Count;
        using var reference = Tensor.FromArray(proposals.Boxes, rois, 4);
        using var decoded = BoxCoderOp.Decode(deltas, reference, BoxWeights.RoiHeads, flavour.Convention, size);
        var boxes = decoded.AsSpan<float>();
        var scores = probs.AsSpan<float>();

        var candBoxes = new List<float>();
        var candScores = new List<float>();
        var candLabels = new List<long>();
        // Proposal-major, then class order: the order of torchvision's reshape and detectron2's nonzero().
        for (int r = 0; r < rois; r++)
            for (int j = 0; j < classes; j++)
            {
                if (j == config.BackgroundIndex) continue;
                float s = scores[r * classes + j];
                if (!(s > config.ScoreThreshold)) continue;
                var b = boxes.Slice((r * boxClasses + j) * 4, 4);
                if (!flavour.KeepsDetectionBox(b)) continue;
                candBoxes.AddRange([b[0], b[1], b[2], b[3]]);
                candScores.Add(s);
                candLabels.Add(j);
            }

        int m = candScores.Count;
        using var nmsBoxes = Tensor.FromArray(candBoxes.ToArray(), m, 4);
        using var nmsScores = Tensor.FromArray(candScores.ToArray(), m);
        using var nmsLabels = Tensor.FromArray(candLabels.ToArray(), m);
        using var order = NmsOp.Batched(nmsBoxes, nmsScores, nmsLabels, config.NmsThreshold, plusOne: flavour.PlusOne);
        var keep = flavour.CapDetections([.. order.AsSpan<long>().ToArray().Select(i => (int)i)], candScores, candLabels, config.DetectionsPerImage);

        var outBoxes = new float[keep.Count * 4];
        for (int i = 0; i < keep.Count; i++)
            for (int c = 0; c < 4; c++) outBoxes[i * 4 + c] = candBoxes[keep[i] * 4 + c];
        return new Detections(outBoxes, keep.Select(i => candScores[i]).ToArray(), keep.Select(i => (int)candLabels[i]).ToArray());
    }
}
