using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using SkiaSharp;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// `refine --out`: the image twice side by side, the coarse masks' boundaries on the left and the refined masks' on
/// the right, each instance in its category's colour, so what the refinement moved reads at a glance.
/// </summary>
internal static class RefinementFigure
{
    public static Image Draw(Image image, IReadOnlyList<(long CategoryId, Rle Coarse, Rle Refined)> instances)
    {
        int w = image.Width, h = image.Height;
        using var source = SkiaImages.ToBitmap(image);
        using var picture = SKImage.FromBitmap(source);
        using var bitmap = new SKBitmap(new SKImageInfo(2 * w, h, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using var canvas = new SKCanvas(bitmap);
        var sampling = new SKSamplingOptions(SKFilterMode.Nearest);
        canvas.DrawImage(picture, 0, 0, sampling, null);
        canvas.DrawImage(picture, w, 0, sampling, null);
        float lineWidth = MathF.Max(MathF.Sqrt((float)w * h) / 540, 1f);
        foreach (var (category, coarse, refined) in instances)
        {
            using var paint = new SKPaint { Color = CategoryColors.Of(category), IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = lineWidth };
            using (var left = MaskPath.Of(coarse)) canvas.DrawPath(left, paint);
            using var right = MaskPath.Of(refined);
            right.Offset(w, 0);
            canvas.DrawPath(right, paint);
        }
        return SkiaImages.ToImage(bitmap);
    }
}
