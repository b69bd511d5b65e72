using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Candidates;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Kernels.Indexing;
using NativeSeg.Kernels.Selection;
using NativeSeg.Kernels.Transpose;
using NativeSeg.Models.Detection;
using ActivationOp = NativeSeg.Kernels.Activations.Activation;
using CandidatesOp = NativeSeg.Kernels.Candidates.Candidates;
using NmsOp = NativeSeg.Kernels.Nms.Nms;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// <see cref="FcosPostprocess"/> with every step a device kernel and every count kept on the device. Per level:
/// sigmoid(cls)·sigmoid(ctr) over the (location, class) grid in upstream's location-major order, the candidates that
/// fail the threshold demoted to −inf, the pre-NMS top-k (equal scores in grid order, as the top-k of upstream's
/// nonzero() list gives them), and each kept candidate's box (x − l, y − t, x + r, y + b) about its location. Then
/// √(cls·ctr), class-aware NMS over all levels and the first <see cref="FcosConfig.DetectionsPerImage"/> — or, with
/// <see cref="FcosConfig.KeepTiesAtCut"/>, those and every later one tied with the last, in <see cref="Capacity"/> slots,
/// with the count the cut keeps so that a caller can tell when the ties overflowed them. Every size the host decides
/// follows from the maps' shapes, so nothing here copies back or waits; the location centres and indices, which follow
/// from the shapes alone, are uploaded once per set of map sizes and kept on the device.
/// </summary>
public sealed class DeviceFcosPostprocess(FcosConfig config) : IDisposable
{
    // As the RPN's anchors: one entry for a run over images of one size, a handful for a folder of COCO images.
    private const int CachedShapes = 8;

    private readonly DeviceShapeCache<LocationCentres> _shapes = new(CachedShapes);

    // Slots per image, in detections per image, of a cut that keeps ties: the ties past the cut take the second half.
    private const int TiedCutSlots = 2;

    /// <summary>Sets of map sizes whose location centres are on the device now.</summary>
    public int CachedShapeCount => _shapes.Count;

    /// <summary>Detection slots per image: the detections per image, or twice that when the cut keeps ties.</summary>
    public int Capacity => config.KeepTiesAtCut ? TiedCutSlots * config.DetectionsPerImage : config.DetectionsPerImage;

    /// <summary>Image <paramref name="image"/>'s detections, in batch-image coordinates; labels are 0-based class indices.</summary>
    /// <param name="levels">The FCOS head's outputs per level, P3 first, on the device.</param>
    public DeviceFcosDetections Run(IReadOnlyList<FcosLevelOutput> levels, int image)
    {
        using var scope = TensorScope.Begin();
        string key = string.Join(",", levels.Select(o => $"{o.Logits.Shape[2]}x{o.Logits.Shape[3]}"));
        var centres = _shapes.Get(key, () => LocationCentres.Upload(levels, levels[0].Logits.Device));
        var perLevel = levels.Select((o, l) => Level(o, image, centres.PerLevel[l], centres.Signs, centres.Indices[l])).ToList();
        var boxes = Concat.Forward([.. perLevel.Select(c => c.Boxes)], 0);
        var labels = Concat.Forward([.. perLevel.Select(c => c.Labels)], 0);
        var locations = Concat.Forward([.. perLevel.Select(c => c.Locations)], 0);
        using var ranked = Concat.Forward([.. perLevel.Select(c => c.Ranked)], 0);
        using var classes = Concat.Forward([.. perLevel.Select(c => c.Classes)], 0);
        // A demoted candidate's −inf became NaN under the square root: the filter demotes it again, class −1.
        using var roots = ActivationOp.Sqrt(ranked);
        var (scores, nmsClasses) = CandidatesOp.Filter(roots, null, classes, null, new CandidateRule(float.NegativeInfinity, Strict: true));
        var (order, _) = NmsOp.BatchedPadded(boxes, scores, nmsClasses, config.NmsThreshold);
        var (taken, kept) = config.KeepTiesAtCut
            ? CandidatesOp.TakeKeepingTies(order, scores, config.DetectionsPerImage, Capacity)
            : (CandidatesOp.Take(order, scores, Capacity), (Tensor?)null);
        int m = scores.Shape[0];
        var detections = new DeviceBoxes(scope.Keep(Gather.Rows(boxes, taken.Index)), scope.Keep(taken.Count));
        return new DeviceFcosDetections(
            new DeviceDetections(detections, scope.Keep(Gather.Rows(scores.Reshape(m, 1), taken.Index)),
                scope.Keep(Gather.Rows(labels.Reshape(m, 1), taken.Index)), scope.Keep(taken.Select)),
            scope.Keep(Gather.Rows(locations.Reshape(m, 1), taken.Index).Reshape(Capacity)), kept is null ? taken.Count : scope.Keep(kept));
    }

    /// <summary>
    /// One level's pre-NMS top-k: boxes [k, 4], cls·ctr [k] (−inf past the candidates), int64 classes [k], float classes [k]
    /// and int64 locations [k] as rows of all levels' maps.
    /// </summary>
    private sealed record LevelCandidates(Tensor Boxes, Tensor Ranked, Tensor Classes, Tensor Labels, Tensor Locations);

    public void Dispose() => _shapes.Dispose();

    /// <param name="centres">The level's location centres (x, y, x, y) [H·W, 4] on the device.</param>
    /// <param name="signs">(−1, −1, 1, 1) on the device: turns the (l, t, r, b) distances into offsets from the centre.</param>
    /// <param name="indices">The level's locations as rows of all levels' maps, int64 [H·W, 1] on the device.</param>
    private LevelCandidates Level(FcosLevelOutput output, int image, Tensor centres, Tensor signs, Tensor indices)
    {
        int k = output.Logits.Shape[1], height = output.Logits.Shape[2], width = output.Logits.Shape[3];
        int locations = height * width, n = locations * k, top = Math.Min(config.PreNmsTopN, n);
        // [HW, K]: upstream permutes the logits to (location, class) before thresholding.
        var cls = ActivationOp.Sigmoid(Transpose.LastTwo(output.Logits.Slice(image, 1).Reshape(k, locations)));
        var ctr = ActivationOp.Sigmoid(output.Centerness.Slice(image, 1).Reshape(locations));
        var threshold = new CandidateRule(config.InferenceThreshold, Strict: true, k);
        var open = new CandidateRule(float.NegativeInfinity, Strict: true, k);
        var (gated, columns) = CandidatesOp.Filter(cls, null, null, null, config.ThresholdWithCenterness ? open : threshold);
        // −inf·ctr stays −inf, or is NaN where ctr underflowed to 0: the second filter demotes both.
        var product = Arithmetic.BroadcastAxis(gated.Reshape(locations, k), ctr, BinaryOp.Mul, axis: 0);
        var (ranked, classes) = CandidatesOp.Filter(product, null, columns, null, config.ThresholdWithCenterness ? threshold : open);
        var flat = ranked.Reshape(n);
        var (values, order) = TopK.LastDim(flat, top);
        var taken = CandidatesOp.Take(order, flat, top, k);

        var distances = Transpose.LastTwo(output.Regression.Slice(image, 1).Reshape(4, locations));
        // x + (−l) is x − l exactly, as upstream computes it.
        var boxes = Arithmetic.Add(centres, Arithmetic.BroadcastAxis(distances, signs, BinaryOp.Mul, axis: 1));
        return new LevelCandidates(Gather.Rows(boxes, taken.Row), values, Gather.Rows(classes.Reshape(n, 1), taken.Index).Reshape(top), taken.Column,
            Gather.Rows(indices, taken.Row).Reshape(top));
    }

    /// <summary>
    /// One set of map sizes' location centres per level [H·W, 4], the distance signs, and each level's locations as
    /// rows of all levels' maps one after another [H·W, 1] (views of one upload), owned by the cache.
    /// </summary>
    private sealed record LocationCentres(IReadOnlyList<Tensor> PerLevel, Tensor Signs, Tensor AllIndices, IReadOnlyList<Tensor> Indices) : IDisposable
    {
        public static LocationCentres Upload(IReadOnlyList<FcosLevelOutput> levels, Device device)
        {
            var perLevel = new List<Tensor>(levels.Count);
            var sizes = levels.Select(o => o.Logits.Shape[2] * o.Logits.Shape[3]).ToArray();
            for (int l = 0; l < levels.Count; l++)
            {
                int height = levels[l].Logits.Shape[2], width = levels[l].Logits.Shape[3];
                perLevel.Add(DeviceConstant.Upload(Tensor.FromArray(Centres(height, width, FcosConfig.Strides[l]), height * width, 4), device));
            }
            int total = sizes.Sum();
            var all = DeviceConstant.Upload(Tensor.FromArray(Enumerable.Range(0, total).Select(i => (long)i).ToArray(), total, 1), device);
            var indices = new List<Tensor>(levels.Count);
            for (int l = 0, start = 0; l < levels.Count; start += sizes[l++]) indices.Add(TensorScope.Release(all.Slice(start, sizes[l])));
            return new LocationCentres(perLevel, DeviceConstant.Upload(Tensor.FromArray(new[] { -1f, -1f, 1f, 1f }, 4), device), all, indices);
        }

        public void Dispose()
        {
            foreach (var c in PerLevel) c.Dispose();
            Signs.Dispose();
            foreach (var i in Indices) i.Dispose();
            AllIndices.Dispose();
        }

        /// <summary>Each location's (x, y, x, y): its shift plus half the stride, in integers as upstream computes them.</summary>
        private static float[] Centres(int height, int width, int stride)
        {
            var centres = new float[height * width * 4];
            int half = stride / 2;
            for (int p = 0; p < height * width; p++)
            {
                float x = p % width * stride + half, y = p / width * stride + half;
                centres[p * 4] = centres[p * 4 + 2] = x;
                centres[p * 4 + 1] = centres[p * 4 + 3] = y;
            }
            return centres;
        }
    }
}
