using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.BoxIou;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using BoxIouOp = NativeSeg.Kernels.BoxIou.BoxIou;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>The box kernels' CPU twins over host arrays of (x1, y1, x2, y2) rows.</summary>
internal static class HostBoxes
{
    public static float[] Iou(float[] gt, float[] boxes, IouZeroArea zeroArea)
    {
        using var a = Tensor.FromArray(gt, gt.Length / 4, 4);
        using var b = Tensor.FromArray(boxes, boxes.Length / 4, 4);
        using var iou = BoxIouOp.Pairwise(a, b, zeroArea);
        return iou.ToArray<float>();
    }

    /// <summary>Deltas of <paramref name="targets"/> relative to <paramref name="references"/>, row by row.</summary>
    public static float[] Encode(float[] targets, float[] references, BoxWeights weights)
    {
        using var t = Tensor.FromArray(targets, targets.Length / 4, 4);
        using var r = Tensor.FromArray(references, references.Length / 4, 4);
        using var deltas = BoxCoderOp.Encode(t, r, weights, BoxConvention.Detectron2);
        return deltas.ToArray<float>();
    }

    /// <summary>Rows <paramref name="rows"/> of [N, 4] boxes.</summary>
    public static float[] Gather(ReadOnlySpan<float> boxes, ReadOnlySpan<int> rows)
    {
        var result = new float[rows.Length * 4];
        for (int i = 0; i < rows.Length; i++) boxes.Slice(rows[i] * 4, 4).CopyTo(result.AsSpan(i * 4, 4));
        return result;
    }

    /// <summary>Deltas [N, 4] of each box to its matched GT (<paramref name="matchedGt"/>, −1 for none, which gives 0).</summary>
    public static float[] MatchedDeltas(float[] boxes, float[] gtBoxes, int[] matchedGt, BoxWeights weights)
    {
        int[] rows = [.. Enumerable.Range(0, matchedGt.Length).Where(i => matchedGt[i] >= 0)];
        var deltas = new float[boxes.Length];
        if (rows.Length == 0) return deltas;
        var encoded = Encode(Gather(gtBoxes, [.. rows.Select(i => matchedGt[i])]), Gather(boxes, rows), weights);
        for (int k = 0; k < rows.Length; k++) encoded.AsSpan(k * 4, 4).CopyTo(deltas.AsSpan(rows[k] * 4, 4));
        return deltas;
    }
}
