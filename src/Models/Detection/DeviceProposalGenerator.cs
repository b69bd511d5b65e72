using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.Candidates;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Selection;
using NativeSeg.Kernels.Transpose;
using NativeSeg.Models.Detection.Flavours;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using CandidatesOp = NativeSeg.Kernels.Candidates.Candidates;
using NmsOp = NativeSeg.Kernels.Nms.Nms;
using SigmoidOp = NativeSeg.Kernels.Activations.Activation;

namespace NativeSeg.Models.Detection;

/// <summary>
/// <see cref="ProposalGenerator"/> with every step a device kernel: per-level top-k of the logits (or, where the
/// flavour ranks it, their sigmoid) in anchor order, decode and clip by the flavour's box convention, the flavour's
/// small-box and score filter, NMS that never merges levels (one segmented NMS for the whole batch, with the
/// flavour's "+1" areas or not) and the post-NMS cut, with the surviving count kept on the device. A flavour's
/// per-level post-NMS cap (<see cref="Flavours.DetectionFlavour.CapsProposalsPerLevel"/>) is the per-image count
/// again, which the per-image cut of the score-ordered NMS result already honours. Every size the host decides
/// follows from tensor shapes, never from data, so nothing here copies back or waits; the anchors and level ids,
/// which follow from the shapes alone, are uploaded once per batch shape and kept on the device.
/// </summary>
public sealed class DeviceProposalGenerator(DetectorConfig config) : IDisposable
{
    // A few shapes: a run over images of one size needs one, a folder of COCO images a handful at a time.
    private const int CachedShapes = 8;

    private readonly DeviceShapeCache<ShapeConstants> _shapes = new(CachedShapes);

    /// <summary>Batch shapes whose anchors are on the device now.</summary>
    public int CachedShapeCount => _shapes.Count;

    /// <param name="levels">Per FPN level the head's logits [N, A, H, W] and deltas [N, 4A, H, W], on the device.</param>
    /// <param name="padded">The batch's padded (height, width): with the levels' sizes, what the anchors depend on.</param>
    /// <param name="anchors">Per level the anchors from <see cref="AnchorGenerator.Grid"/>, asked for only on a shape's first batch.</param>
    /// <param name="imageSizes">Per image its unpadded (height, width) in the batch.</param>
    public IReadOnlyList<DeviceBoxes> Generate(IReadOnlyList<(Tensor Logits, Tensor Deltas)> levels, (int H, int W) padded, Func<IReadOnlyList<float[]>> anchors,
        IReadOnlyList<(int H, int W)> imageSizes)
    {
        using var scope = TensorScope.Begin();
        var device = levels[0].Logits.Device;
        string key = $"{padded.H}x{padded.W}:" + string.Join(",", levels.Select(l => $"{l.Logits.Shape[1]}x{l.Logits.Shape[2]}x{l.Logits.Shape[3]}"));
        var constants = _shapes.Get(key, () => ShapeConstants.Upload(anchors(), levels, config.RpnPreNmsTopK, device));
        var perLevel = new List<(Tensor Values, Tensor Indices, Tensor Deltas, Tensor Anchors)>(levels.Count);
        for (int l = 0; l < levels.Count; l++)
        {
            var (logits, deltas) = levels[l];
            int n = logits.Shape[0], a = logits.Shape[1], hw = logits.Shape[2] * logits.Shape[3], count = a * hw;
            // The head's (a, y, x) layout in the anchors' (y, x, a) order, as torchvision permutes it.
            using var objectness = Transpose.LastTwo(logits.Reshape(n, a, hw));
            using var ranked = config.Flavour.RanksSigmoid ? SigmoidOp.Sigmoid(objectness) : objectness.Share();
            var (values, indices) = TopK.LastDim(ranked.Reshape(n, count), Math.Min(count, config.RpnPreNmsTopK));
            var ordered = Transpose.LastTwo(deltas.Reshape(n, 4 * a, hw));
            perLevel.Add((values, indices, ordered.Reshape(n, count, 4), constants.Anchors[l]));
        }
        var candidates = imageSizes.Select((size, i) => Candidates(i, perLevel, constants.LevelIds, size, config.Flavour)).ToList();
        // One segmented NMS for the batch, an image per segment, the levels kept apart as classes.
        int images = imageSizes.Count, m = constants.LevelIds.Shape[0];
        var boxes = Concat.Forward([.. candidates.Select(c => c.Boxes)], 0).Reshape(images, m, 4);
        var scores = Concat.Forward([.. candidates.Select(c => c.Scores)], 0).Reshape(images, m);
        var classes = Concat.Forward([.. candidates.Select(c => c.Levels)], 0).Reshape(images, m);
        var (order, _) = NmsOp.Segmented(boxes, scores, classes, config.RpnNmsThreshold, config.Flavour.PlusOne);
        var result = new List<DeviceBoxes>(images);
        for (int i = 0; i < images; i++)
        {
            var taken = CandidatesOp.Take(order.Slice(i, 1).Reshape(m), candidates[i].Scores, Math.Min(config.RpnPostNmsTopK, m));
            result.Add(new DeviceBoxes(scope.Keep(Gather.Rows(candidates[i].Boxes, taken.Index)), scope.Keep(taken.Count)));
        }
        return result;
    }

    public void Dispose() => _shapes.Dispose();

    /// <summary>
    /// One image's pre-NMS candidates over all levels: boxes decoded and clipped to its size [m, 4], their scores
    /// [m] (the ranked scores, or their sigmoid where the flavour's proposals carry it) and levels (int64 [m]), the
    /// ones failing the flavour's proposal filter demoted to −inf and level −1.
    /// </summary>
    private static (Tensor Boxes, Tensor Scores, Tensor Levels) Candidates(int image, IReadOnlyList<(Tensor Values, Tensor Indices, Tensor Deltas, Tensor Anchors)> perLevel,
        Tensor levelIds, (int H, int W) size, DetectionFlavour flavour)
    {
        var anchors = new List<Tensor>();
        var deltas = new List<Tensor>();
        var scores = new List<Tensor>();
        for (int l = 0; l < perLevel.Count; l++)
        {
            var (values, indices, levelDeltas, levelAnchors) = perLevel[l];
            int k = values.Shape[1];
            var index = indices.Slice(image, 1).Reshape(k);
            anchors.Add(Gather.Rows(levelAnchors, index));
            deltas.Add(Gather.Rows(levelDeltas.Slice(image, 1).Reshape(levelDeltas.Shape[1], 4), index));
            var ranked = values.Slice(image, 1).Reshape(k);
            scores.Add(flavour.ProposalsCarrySigmoid ? SigmoidOp.Sigmoid(ranked) : ranked);
        }
        using var allAnchors = Concat.Forward(anchors, 0);
        using var allDeltas = Concat.Forward(deltas, 0);
        using var allScores = Concat.Forward(scores, 0);
        var filter = flavour.ProposalFilter;
        var boxes = BoxCoderOp.Decode(allDeltas, allAnchors, BoxWeights.Rpn, flavour.Convention, clipTo: (size.H, size.W));
        using var small = BoxCoderOp.KeepMask(boxes, filter.MinSize, filter.StrictSize);
        var (filtered, classes) = CandidatesOp.Filter(allScores, small, levelIds, null, new CandidateRule(filter.MinScore, filter.StrictScore));
        return (boxes, filtered, classes);
    }

    /// <summary>One batch shape's anchors per level [count, 4] and each pre-NMS candidate's level (int64 [m]), owned by the cache.</summary>
    private sealed record ShapeConstants(IReadOnlyList<Tensor> Anchors, Tensor LevelIds) : IDisposable
    {
        public static ShapeConstants Upload(IReadOnlyList<float[]> anchors, IReadOnlyList<(Tensor Logits, Tensor Deltas)> levels, int preNmsTopK, Device device)
        {
            var ids = new List<long>();
            var uploaded = new List<Tensor>(levels.Count);
            for (int l = 0; l < levels.Count; l++)
            {
                var shape = levels[l].Logits.Shape;
                int count = shape[1] * shape[2] * shape[3];
                uploaded.Add(DeviceConstant.Upload(Tensor.FromArray(anchors[l], count, 4), device));
                ids.AddRange(Enumerable.Repeat((long)l, Math.Min(count, preNmsTopK)));
            }
            return new ShapeConstants(uploaded, DeviceConstant.Upload(Tensor.FromArray(ids.ToArray(), ids.Count), device));
        }

        public void Dispose()
        {
            foreach (var a in Anchors) a.Dispose();
            LevelIds.Dispose();
        }
    }
}
