namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// Each box's best ground truth (<see cref="Matches"/>, the first GT on ties, 0 when there is none) and its
/// label: 1 foreground, 0 background, −1 ignored.
/// </summary>
public sealed record MatchResult(int[] Matches, sbyte[] Labels)
{
    /// <summary>
    /// torchvision's Matcher output: the matched GT for foreground, −1 (BELOW_LOW_THRESHOLD) for background,
    /// −2 (BETWEEN_THRESHOLDS) for ignored boxes.
    /// </summary>
    public long[] TorchvisionIndices() =>
        [.. Labels.Select((label, i) => label switch { 1 => Matches[i], 0 => -1L, _ => -2L })];
}

/// <summary>
/// Assigns every box (anchor or proposal) a ground truth by IoU, in detectron2's form: IoU below
/// <c>Thresholds[0]</c> gets <c>Labels[0]</c>, [Thresholds[k−1], Thresholds[k]) gets <c>Labels[k]</c>, at or above the
/// last threshold <c>Labels[^1]</c>. torchvision's Matcher(high, low) is the same rule with thresholds [low, high]
/// and labels [0, −1, 1]. Low-quality matching makes every box whose IoU equals a GT's highest IoU (ties
/// included, and also when that highest IoU is 0) foreground; both flavours keep such a box's match at its own
/// best GT, which may be another one.
/// </summary>
public sealed record Matcher(float[] Thresholds, sbyte[] Labels, bool AllowLowQualityMatches)
{
    /// <summary>RPN anchors: below 0.3 background, 0.7 and above foreground, low-quality matches kept (both flavours).</summary>
    public static Matcher RpnAnchors { get; } = new([0.3f, 0.7f], [0, -1, 1], true);

    /// <summary>Box-head proposals: 0.5 and above foreground, the rest background (both flavours).</summary>
    public static Matcher RoiProposals { get; } = new([0.5f], [0, 1], false);

    /// <summary>
    /// Matches <paramref name="boxCount"/> boxes against <paramref name="gtCount"/> GTs from their IoU matrix
    /// [gtCount, boxCount] (row-major). Without GT every box is matched to 0 with <c>Labels[0]</c> (detectron2's
    /// rule; torchvision's callers make the same all-background assignment before reaching their Matcher).
    /// </summary>
    public MatchResult Match(ReadOnlySpan<float> iou, int gtCount, int boxCount)
    {
        if (Labels.Length != Thresholds.Length + 1)
            throw new ArgumentException($"a matcher with {Thresholds.Length} thresholds needs {Thresholds.Length + 1} labels, got {Labels.Length}");
        if (gtCount < 0 || boxCount < 0 || iou.Length != (long)gtCount * boxCount)
            throw new ArgumentException($"IoU matrix has {iou.Length} values, not {gtCount} GT × {boxCount} boxes", nameof(iou));

        var matches = new int[boxCount];
        var labels = new sbyte[boxCount];
        if (gtCount == 0)
        {
            Array.Fill(labels, Labels[0]);
            return new(matches, labels);
        }
        var best = new float[boxCount];
        best.AsSpan().Fill(float.NegativeInfinity);
        for (int g = 0; g < gtCount; g++)
        {
            var row = iou.Slice(g * boxCount, boxCount);
            for (int a = 0; a < boxCount; a++)
            {
                float v = row[a];
                if (!(v >= 0)) throw new ArgumentException($"IoU of GT {g} and box {a} is {v}; the matcher needs IoUs ≥ 0 (degenerate GT boxes must be removed first)", nameof(iou));
                if (v > best[a]) (best[a], matches[a]) = (v, g);
            }
        }
        for (int a = 0; a < boxCount; a++) labels[a] = LabelOf(best[a]);
        if (AllowLowQualityMatches) KeepLowQualityMatches(iou, gtCount, boxCount, labels);
        return new(matches, labels);
    }

    private sbyte LabelOf(float value)
    {
        int band = 0;
        while (band < Thresholds.Length && value >= Thresholds[band]) band++;
        return Labels[band];
    }

    private static void KeepLowQualityMatches(ReadOnlySpan<float> iou, int gtCount, int boxCount, sbyte[] labels)
    {
        for (int g = 0; g < gtCount; g++)
        {
            var row = iou.Slice(g * boxCount, boxCount);
            float highest = float.NegativeInfinity;
            foreach (float v in row) highest = v > highest ? v : highest;
            for (int a = 0; a < boxCount; a++)
                if (row[a] == highest) labels[a] = 1;
        }
    }
}
