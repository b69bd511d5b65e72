using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Models.Evaluation;

/// <summary>
/// boundary-iou-api's mask_to_boundary: the mask minus its erosion by a (2d+1)² square, d =
/// round(ratio · image diagonal) (at least 1), with everything beyond the image border counted as
/// background — their one-pixel zero padding makes cv2's erosion treat the border that way.
/// </summary>
public static class MaskBoundary
{
    public const double DefaultDilationRatio = 0.02;

    /// <summary>Python's round() (ties to even) of ratio · sqrt(h² + w²), at least 1.</summary>
    public static int Dilation(int height, int width, double ratio = DefaultDilationRatio)
    {
        double diagonal = Math.Sqrt((double)height * height + (double)width * width);
        int d = (int)Math.Round(ratio * diagonal, MidpointRounding.ToEven);
        return Math.Max(d, 1);
    }

    public static Rle Boundary(Rle mask, double ratio = DefaultDilationRatio)
    {
        int h = mask.Height, w = mask.Width;
        var box = mask.ToBox();
        int bw = (int)box.Width, bh = (int)box.Height;
        if (bw == 0 || bh == 0 || mask.Area == 0) return mask;
        int x0 = (int)box.X, y0 = (int)box.Y;
        int d = Dilation(h, w, ratio);

        // Erosion happens inside the box only: outside it the mask is empty, exactly as beyond the image.
        var crop = new byte[bw * bh];
        long p = 0;
        ReadOnlySpan<uint> counts = mask.Counts;
        for (int j = 0; j < counts.Length; j++)
        {
            long end = p + counts[j];
            if ((j & 1) == 1)
                for (long q = p; q < end; q++)
                {
                    int x = (int)(q / h) - x0, y = (int)(q % h) - y0;
                    crop[y * bw + x] = 1;
                }
            p = end;
        }

        // A square min-filter is a horizontal then a vertical one: a pixel survives a pass when the run
        // of ones through it reaches d pixels further on both sides.
        var horizontal = new byte[crop.Length];
        for (int y = 0; y < bh; y++) ErodeLine(crop, horizontal, y * bw, 1, bw, d);
        var eroded = new byte[crop.Length];
        for (int x = 0; x < bw; x++) ErodeLine(horizontal, eroded, x, bw, bh, d);

        for (int i = 0; i < crop.Length; i++) crop[i] = (byte)(crop[i] & (eroded[i] ^ 1));
        return Rle.FromCrop(crop, x0, y0, bw, bh, h, w);
    }

    private static void ErodeLine(byte[] source, byte[] target, int start, int stride, int length, int d)
    {
        int i = 0;
        while (i < length)
        {
            if (source[start + i * stride] == 0) { i++; continue; }
            int runStart = i;
            while (i < length && source[start + i * stride] != 0) i++;
            for (int k = runStart + d; k < i - d; k++) target[start + k * stride] = 1;
        }
    }
}
