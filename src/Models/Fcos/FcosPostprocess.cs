using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;
using NmsOp = NativeSeg.Kernels.Nms.Nms;
using TopKOp = NativeSeg.Kernels.Selection.TopK;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// FCOS's post-processing at test time (BCNet's FCOSPostProcessor, specs/bcnet.md §3.1; AdelaiDet's
/// FCOSOutputs.predict_proposals, specs/blendmask.md §2.3): per level, the (location, class) candidates that pass
/// the threshold, ranked by sigmoid(cls)·sigmoid(ctr) and cut to the pre-NMS top-k; boxes (x−l, y−t, x+r, y+b)
/// around the location (shift + stride/2); score √(cls·ctr); class-aware NMS over all levels, then the cut to the
/// detections per image. Boxes are neither clipped nor size-filtered, as upstream. <see cref="FcosConfig"/> holds
/// what differs between the two.
/// </summary>
public sealed class FcosPostprocess(FcosConfig config)
{
    /// <summary>Detections per image of the batch, in batch-image coordinates; labels are 0-based class indices.</summary>
    public IReadOnlyList<Detections> Run(IReadOnlyList<FcosLevelOutput> levels) => [.. RunTraced(levels).Select(d => d.Detections)];

    /// <summary>As <see cref="Run"/>, with the pyramid level and location each detection came from.</summary>
    public IReadOnlyList<FcosDetections> RunTraced(IReadOnlyList<FcosLevelOutput> levels)
    {
        using var scope = TensorScope.Begin();
        var host = levels.Select(o => (Logits: o.Logits.To(Device.Cpu), Reg: o.Regression.To(Device.Cpu), Ctr: o.Centerness.To(Device.Cpu))).ToList();
        int images = host[0].Logits.Shape[0];
        var result = new List<FcosDetections>(images);
        for (int n = 0; n < images; n++) result.Add(ForImage(host, n));
        return result;
    }

    private FcosDetections ForImage(IReadOnlyList<(Tensor Logits, Tensor Reg, Tensor Ctr)> levels, int n)
    {
        var candidates = new Candidates();
        for (int l = 0; l < levels.Count; l++) AddLevel(levels[l], n, l, candidates);

        int m = candidates.Scores.Count;
        using var nmsBoxes = Tensor.FromArray(candidates.Boxes.ToArray(), m, 4);
        using var nmsScores = Tensor.FromArray(candidates.Scores.ToArray(), m);
        using var nmsLabels = Tensor.FromArray(candidates.Labels.ToArray(), m);
        using var order = NmsOp.Batched(nmsBoxes, nmsScores, nmsLabels, config.NmsThreshold);
        var keep = Cut(order.AsSpan<long>().ToArray().Select(i => (int)i).ToArray(), candidates.Scores);
        var outBoxes = new float[keep.Length * 4];
        for (int i = 0; i < keep.Length; i++)
            for (int c = 0; c < 4; c++) outBoxes[i * 4 + c] = candidates.Boxes[keep[i] * 4 + c];
        var detections = new Detections(outBoxes, [.. keep.Select(i => candidates.Scores[i])], [.. keep.Select(i => (int)candidates.Labels[i])]);
        return new FcosDetections(detections, [.. keep.Select(i => candidates.Levels[i])], [.. keep.Select(i => candidates.Locations[i])]);
    }

    /// <summary>
    /// The detections kept of NMS's score-ordered survivors: the first per image, or, with ties kept, every one
    /// scoring at least the last of those (upstream's kthvalue threshold).
    /// </summary>
    private int[] Cut(int[] ordered, List<float> scores)
    {
        int limit = config.DetectionsPerImage;
        if (ordered.Length <= limit) return ordered;
        if (!config.KeepTiesAtCut) return ordered[..limit];
        float threshold = scores[ordered[limit - 1]];
        return [.. ordered.Where(i => scores[i] >= threshold)];
    }

    /// <summary>Every candidate of one image over the levels, in upstream's order.</summary>
    private sealed class Candidates
    {
        public List<float> Boxes { get; } = [];

        public List<float> Scores { get; } = [];

        public List<long> Labels { get; } = [];

        public List<int> Levels { get; } = [];

        public List<int> Locations { get; } = [];
    }

    private void AddLevel((Tensor Logits, Tensor Reg, Tensor Ctr) level, int n, int levelIndex, Candidates candidates)
    {
        int stride = FcosConfig.Strides[levelIndex];
        int k = config.Classes, h = level.Logits.Shape[2], w = level.Logits.Shape[3], hw = h * w;
        var logits = level.Logits.AsSpan<float>().Slice(n * k * hw, k * hw);
        var reg = level.Reg.AsSpan<float>().Slice(n * 4 * hw, 4 * hw);
        var ctr = level.Ctr.AsSpan<float>().Slice(n * hw, hw);

        // Location-major, class-minor: the order of nonzero() on the [HW, K] candidate mask upstream.
        var locations = new List<int>();
        var classes = new List<int>();
        var ranked = new List<float>();
        for (int p = 0; p < hw; p++)
        {
            float centerness = Sigmoid(ctr[p]);
            for (int c = 0; c < k; c++)
            {
                float cls = Sigmoid(logits[c * hw + p]);
                float ranking = cls * centerness;
                if (!((config.ThresholdWithCenterness ? ranking : cls) > config.InferenceThreshold)) continue;
                locations.Add(p);
                classes.Add(c);
                ranked.Add(ranking);
            }
        }

        IEnumerable<int> chosen = Enumerable.Range(0, ranked.Count);
        if (ranked.Count > config.PreNmsTopN)
        {
            using var values = Tensor.FromArray(ranked.ToArray(), ranked.Count);
            var (top, index) = TopKOp.LastDim(values, config.PreNmsTopN);
            using (top)
            using (index)
                chosen = index.AsSpan<long>().ToArray().Select(i => (int)i);
        }

        int half = stride / 2;
        foreach (int i in chosen)
        {
            int p = locations[i];
            float x = p % w * stride + half, y = p / w * stride + half;
            candidates.Boxes.AddRange([x - reg[p], y - reg[hw + p], x + reg[2 * hw + p], y + reg[3 * hw + p]]);
            candidates.Scores.Add(MathF.Sqrt(ranked[i]));
            candidates.Labels.Add(classes[i]);
            candidates.Levels.Add(levelIndex);
            candidates.Locations.Add(p);
        }
    }

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
