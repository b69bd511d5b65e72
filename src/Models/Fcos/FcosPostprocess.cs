using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;
using NmsOp = NativeSeg.Kernels.Nms.Nms;
using TopKOp = NativeSeg.Kernels.Selection.TopK;

namespace NativeSeg.Models.Fcos;

/// <summary>
/// BCNet's FCOSPostProcessor at test time (specs/bcnet.md §3.1): per level, locations whose sigmoid(cls) passes
/// the threshold, ranked by sigmoid(cls)·sigmoid(ctr) and cut to the pre-NMS top-k; boxes (x−l, y−t, x+r, y+b)
/// around the location (shift + stride/2); score √(cls·ctr); class-aware NMS over all levels, then the first
/// detections per image. Boxes are neither clipped nor size-filtered, as upstream.
/// </summary>
public sealed class FcosPostprocess(FcosConfig config)
{
    /// <summary>Detections per image of the batch, in batch-image coordinates; labels are 0-based class indices.</summary>
    public IReadOnlyList<Detections> Run(IReadOnlyList<FcosLevelOutput> levels)
    {
        using var scope = TensorScope.Begin();
        var host = levels.Select(o => (Logits: o.Logits.To(Device.Cpu), Reg: o.Regression.To(Device.Cpu), Ctr: o.Centerness.To(Device.Cpu))).ToList();
        int images = host[0].Logits.Shape[0];
        var result = new List<Detections>(images);
        for (int n = 0; n < images; n++) result.Add(ForImage(host, n));
        return result;
    }

    private Detections ForImage(IReadOnlyList<(Tensor Logits, Tensor Reg, Tensor Ctr)> levels, int n)
    {
        var boxes = new List<float>();
        var scores = new List<float>();
        var labels = new List<long>();
        for (int l = 0; l < levels.Count; l++)
            AddLevel(levels[l], n, FcosConfig.Strides[l], boxes, scores, labels);

        int m = scores.Count;
        using var nmsBoxes = Tensor.FromArray(boxes.ToArray(), m, 4);
        using var nmsScores = Tensor.FromArray(scores.ToArray(), m);
        using var nmsLabels = Tensor.FromArray(labels.ToArray(), m);
        using var order = NmsOp.Batched(nmsBoxes, nmsScores, nmsLabels, config.NmsThreshold);
        var keep = order.AsSpan<long>().ToArray().Take(config.DetectionsPerImage).Select(i => (int)i).ToArray();
        var outBoxes = new float[keep.Length * 4];
        for (int i = 0; i < keep.Length; i++)
            for (int c = 0; c < 4; c++) outBoxes[i * 4 + c] = boxes[keep[i] * 4 + c];
        return new Detections(outBoxes, keep.Select(i => scores[i]).ToArray(), keep.Select(i => (int)labels[i]).ToArray());
    }

    private void AddLevel((Tensor Logits, Tensor Reg, Tensor Ctr) level, int n, int stride, List<float> boxes, List<float> scores, List<long> labels)
    {
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
                if (!(cls > config.InferenceThreshold)) continue;
                locations.Add(p);
                classes.Add(c);
                ranked.Add(cls * centerness);
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
            boxes.AddRange([x - reg[p], y - reg[hw + p], x + reg[2 * hw + p], y + reg[3 * hw + p]]);
            scores.Add(MathF.Sqrt(ranked[i]));
            labels.Add(classes[i]);
        }
    }

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
