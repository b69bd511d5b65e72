using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.Selection;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using NmsOp = NativeSeg.Kernels.Nms.Nms;

namespace NativeSeg.Models.Detection;

/// <summary>
/// Turns the RPN head's outputs into at most <see cref="DetectorConfig.RpnPostNmsTopK"/> proposals per
/// image: per-level top-k, decode, clip, small-box removal and NMS that never merges levels, each by the
/// flavour's rule. The head
/// outputs come to the host once; what follows is bookkeeping over a few thousand boxes, which the CPU
/// twins of the kernels handle without a device round trip per step.
/// </summary>
public sealed class ProposalGenerator(DetectorConfig config)
{
    /// <param name="levels">Per FPN level the head's logits [N, A, H, W] and deltas [N, 4A, H, W].</param>
    /// <param name="anchors">Per level the anchors from <see cref="AnchorGenerator.Grid"/>.</param>
    /// <param name="imageSizes">Per image its unpadded (height, width) in the batch.</param>
    public IReadOnlyList<BoxList> Generate(IReadOnlyList<(Tensor Logits, Tensor Deltas)> levels, IReadOnlyList<float[]> anchors, IReadOnlyList<(int H, int W)> imageSizes)
    {
        var logits = levels.Select(l => l.Logits.ToArray<float>()).ToArray();
        var deltas = levels.Select(l => l.Deltas.ToArray<float>()).ToArray();
        var result = new List<BoxList>(imageSizes.Count);
        for (int n = 0; n < imageSizes.Count; n++) result.Add(ForImage(n, levels, logits, deltas, anchors, imageSizes[n]));
        return result;
    }

    private BoxList ForImage(int n, IReadOnlyList<(Tensor Logits, Tensor Deltas)> levels, float[][] logits, float[][] deltas, IReadOnlyList<float[]> anchors, (int H, int W) size)
    {
        var flavour = config.Flavour;
        var selAnchors = new List<float>();
        var selDeltas = new List<float>();
        var selScores = new List<float>();
        var selLevels = new List<long>();
        for (int l = 0; l < levels.Count; l++)
        {
            var shape = levels[l].Logits.Shape;
            int a = shape[1], hw = shape[2] * shape[3], count = a * hw;
            // The head's (a, y, x) layout permuted to the anchors' (y, x, a) order.
            var scores = new float[count];
            for (int c = 0; c < hw; c++)
                for (int k = 0; k < a; k++)
                {
                    float v = logits[l][(n * a + k) * hw + c];
                    scores[c * a + k] = flavour.RankingScore(v);
                }
            int topK = Math.Min(count, config.RpnPreNmsTopK);
            using var input = Tensor.FromArray(scores, count);
            var (values, indices) = TopK.LastDim(input, topK);
            using (values)
            using (indices)
            {
                var idx = indices.AsSpan<long>();
                var val = values.AsSpan<float>();
                for (int j = 0; j < topK; j++)
                {
                    int i = (int)idx[j], cell = i / a, k = i % a;
                    for (int c = 0; c < 4; c++)
                    {
                        selAnchors.Add(anchors[l][i * 4 + c]);
                        selDeltas.Add(deltas[l][((n * a + k) * 4 + c) * hw + cell]);
                    }
                    selScores.Add(flavour.ProposalScore(val[j]));
                    selLevels.Add(l);
                }
            }
        }

        int m = selScores.Count;
        using var anchorTensor = Tensor.FromArray(selAnchors.ToArray(), m, 4);
        using var deltaTensor = Tensor.FromArray(selDeltas.ToArray(), m, 4);
        using var decoded = BoxCoderOp.Decode(deltaTensor, anchorTensor, BoxWeights.Rpn, flavour.Convention, clipTo: null);
        var boxes = decoded.AsSpan<float>();

        var keptBoxes = new List<float>(m * 4);
        var keptScores = new List<float>(m);
        var keptLevels = new List<long>(m);
        float maxX = flavour.ClipLimit(size.W), maxY = flavour.ClipLimit(size.H);
        for (int i = 0; i < m; i++)
        {
            var b = boxes.Slice(i * 4, 4);
            float x1 = Clip(b[0], maxX), y1 = Clip(b[1], maxY), x2 = Clip(b[2], maxX), y2 = Clip(b[3], maxY);
            if (!flavour.KeepsProposal(b, x1, y1, x2, y2, selScores[i])) continue;
            keptBoxes.AddRange([x1, y1, x2, y2]);
            keptScores.Add(selScores[i]);
            keptLevels.Add(selLevels[i]);
        }

        int kept = keptScores.Count;
        using var nmsBoxes = Tensor.FromArray(keptBoxes.ToArray(), kept, 4);
        using var nmsScores = Tensor.FromArray(keptScores.ToArray(), kept);
        using var nmsLevels = Tensor.FromArray(keptLevels.ToArray(), kept);
        using var order = NmsOp.Batched(nmsBoxes, nmsScores, nmsLevels, config.RpnNmsThreshold, plusOne: flavour.PlusOne);
        var outBoxes = new List<float>();
        var outScores = new List<float>();
        // With per-level caps, the batched NMS's score order makes each level's cap a running count.
        var perLevel = new int[levels.Count];
        foreach (long i in order.AsSpan<long>())
        {
            if (outScores.Count == config.RpnPostNmsTopK) break;
            if (flavour.CapsProposalsPerLevel && perLevel[keptLevels[(int)i]]++ >= config.RpnPostNmsTopK) continue;
            for (int c = 0; c < 4; c++) outBoxes.Add(keptBoxes[(int)i * 4 + c]);
            outScores.Add(keptScores[(int)i]);
        }
        return new BoxList([.. outBoxes], [.. outScores]);
    }

    /// <summary>torch.clamp(v, 0, hi): NaN passes through (and is removed by the size test that follows).</summary>
    private static float Clip(float v, float hi) => v < 0 ? 0 : v > hi ? hi : v;
}
