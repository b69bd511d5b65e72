namespace NativeSeg.Kernels.RoiAlign;

/// <summary>
/// One axis of every RoI's sampling plan: for each bin, the distinct pixel indices its samples touch and
/// their summed weights. A bin's value is Σ_rows wy · Σ_cols wx · plane[row, col] because each sample's
/// bilinear weight is a y factor times an x factor (zero outside the map on either axis); neighbouring
/// samples share taps, so this reads each pixel once per bin instead of once per sample.
/// </summary>
internal sealed class RoiTaps(int bins, int rois)
{
    public int Bins { get; } = bins;

    /// <summary>Bin b of RoI r has taps Start[r·Bins + b] .. Start[r·Bins + b + 1] − 1.</summary>
    public int[] Start { get; } = new int[rois * bins + 1];

    public int[] Index { get; private set; } = new int[Math.Max(rois * bins * 4, 1)];

    public float[] Weight { get; private set; } = new float[Math.Max(rois * bins * 4, 1)];

    public void Open(int bin) => Start[bin + 1] = Start[bin];

    /// <summary>
    /// Adds a tap to bin <paramref name="bin"/>. Samples arrive in increasing order, each as a (low, low + 1)
    /// pair, so a repeated pixel can only be one of the last two taps.
    /// </summary>
    public void Add(int bin, int index, float weight)
    {
        int end = Start[bin + 1];
        for (int k = end - 1; k >= Math.Max(Start[bin], end - 2); k--)
        {
            if (Index[k] != index) continue;
            Weight[k] += weight;
            return;
        }
        if (end == Index.Length)
        {
            Index = Grow(Index);
            Weight = Grow(Weight);
        }
        Index[end] = index;
        Weight[end] = weight;
        Start[bin + 1] = end + 1;
    }

    private static T[] Grow<T>(T[] a)
    {
        var b = new T[a.Length * 2];
        a.CopyTo(b, 0);
        return b;
    }
}
