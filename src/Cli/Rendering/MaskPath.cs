using NativeSeg.Engine.Formats.Coco;
using SkiaSharp;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// The outline of a run-length mask as a Skia path, built from its runs alone: memory follows the number of runs,
/// never the image's pixel count.
/// </summary>
internal static class MaskPath
{
    /// <summary>The boundary of the mask's pixels (holes included) on the pixel grid; empty for an empty mask.</summary>
    public static SKPath Of(Rle mask)
    {
        var rects = ColumnRects(mask);
        if (rects.Count == 0) return new SKPath();
        using var region = new SKRegion();
        region.SetRects(rects.ToArray());
        return region.GetBoundaryPath();
    }

    /// <summary>Each run of ones cut at column ends: the partial first and last columns and one rectangle for the whole columns between.</summary>
    private static List<SKRectI> ColumnRects(Rle mask)
    {
        var rects = new List<SKRectI>();
        long h = mask.Height, position = 0;
        var counts = mask.Counts;
        for (int j = 0; j < counts.Length; position += counts[j], j++)
        {
            if ((j & 1) == 0 || counts[j] == 0) continue;
            long start = position, end = position + counts[j];
            long firstColumn = start / h, lastColumn = (end - 1) / h;
            int top = (int)(start % h), bottom = (int)((end - 1) % h) + 1;
            if (firstColumn == lastColumn)
            {
                rects.Add(new SKRectI((int)firstColumn, top, (int)firstColumn + 1, bottom));
                continue;
            }
            rects.Add(new SKRectI((int)firstColumn, top, (int)firstColumn + 1, (int)h));
            if (lastColumn > firstColumn + 1) rects.Add(new SKRectI((int)firstColumn + 1, 0, (int)lastColumn, (int)h));
            rects.Add(new SKRectI((int)lastColumn, 0, (int)lastColumn + 1, bottom));
        }
        return rects;
    }
}
