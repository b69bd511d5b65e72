using NativeSeg.Engine.Randomness;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// Box indices chosen for the loss. A plain pair of lists, so a test can substitute the ones torch's
/// randperm picked for the ones <see cref="BalancedSampler"/> draws.
/// </summary>
public sealed record SampledIndices(int[] Positive, int[] Negative);

/// <summary>
/// torchvision's BalancedPositiveNegativeSampler and detectron2's subsample_labels: up to
/// ⌊batch × fraction⌋ positives (label 1), then negatives (label 0) up to the batch size, each set drawn
/// uniformly without replacement; ignored boxes (−1) are never drawn.
/// </summary>
public static class BalancedSampler
{
    public static SampledIndices Sample(ReadOnlySpan<sbyte> labels, int batchSizePerImage, double positiveFraction, SplitMix64 rng)
    {
        if (batchSizePerImage < 0) throw new ArgumentOutOfRangeException(nameof(batchSizePerImage), batchSizePerImage, "the batch size per image must not be negative");
        if (positiveFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(positiveFraction), positiveFraction, "the positive fraction must lie in [0, 1]");
        var positive = new List<int>();
        var negative = new List<int>();
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] == 1) positive.Add(i);
            else if (labels[i] == 0) negative.Add(i);
        }
        int positives = Math.Min(positive.Count, (int)(batchSizePerImage * positiveFraction));
        int negatives = Math.Min(negative.Count, batchSizePerImage - positives);
        return new(Draw(positive, positives, rng), Draw(negative, negatives, rng));
    }

    /// <summary>The first <paramref name="count"/> entries of a Fisher–Yates shuffle, in the order drawn.</summary>
    private static int[] Draw(List<int> pool, int count, SplitMix64 rng)
    {
        for (int i = 0; i < count; i++)
        {
            int j = i + rng.Next(pool.Count - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }
        return [.. pool.Take(count)];
    }
}
