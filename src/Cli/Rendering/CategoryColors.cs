using SkiaSharp;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// One colour per category id, the same in every image and every run. Hues step by the golden ratio of a turn,
/// so neighbouring ids (COCO's related classes sit next to each other) get hues far apart.
/// </summary>
internal static class CategoryColors
{
    private const double GoldenTurn = 0.6180339887498949;

    public static SKColor Of(long categoryId)
    {
        double turn = categoryId * GoldenTurn % 1;
        if (turn < 0) turn += 1;
        return SKColor.FromHsv((float)(turn * 360), 75, 95);
    }
}
