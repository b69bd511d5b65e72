namespace NativeSeg.Models.Evaluation;

/// <summary>Float64 reductions in the order numpy performs them, so summary numbers match to the last bit.</summary>
internal static class NumpyMath
{
    private const int BlockSize = 128;

    /// <summary>np.mean of a contiguous float64 array: numpy's pairwise sum divided by the count.</summary>
    public static double Mean(ReadOnlySpan<double> values) => PairwiseSum(values) / values.Length;

    /// <summary>
    /// numpy's pairwise_sum: below 8 elements a plain loop; up to 128 eight interleaved accumulators
    /// combined as a tree, then the remainder; above that, split at a multiple of 8 near the middle.
    /// </summary>
    public static double PairwiseSum(ReadOnlySpan<double> a)
    {
        int n = a.Length;
        if (n < 8)
        {
            double sum = 0;
            for (int i = 0; i < n; i++) sum += a[i];
            return sum;
        }
        if (n <= BlockSize)
        {
            Span<double> r = stackalloc double[8];
            a[..8].CopyTo(r);
            int i;
            for (i = 8; i < n - n % 8; i += 8)
                for (int j = 0; j < 8; j++) r[j] += a[i + j];
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) res += a[i];
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return PairwiseSum(a[..n2]) + PairwiseSum(a[n2..]);
    }
}
