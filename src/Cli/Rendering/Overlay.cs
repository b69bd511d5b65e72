using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Inference;
using SkiaSharp;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// Draws instances on a copy of an image: translucent mask fills with antialiased outlines, boxes, and
/// "name score" labels, coloured by category. Memory is one canvas of the image's size; masks are drawn
/// from their runs.
/// </summary>
internal static class Overlay
{
    private const byte FillAlpha = 115;

    /// <summary>The default of `segment --draw-thresh`: detectron2's demo draws from 0.5, where a crowded image stays readable.</summary>
    public const float DefaultDrawThreshold = 0.5f;

    /// <param name="names">The model's category names; null for COCO's.</param>
    /// <param name="drawThreshold">Instances whose label score (the mask score) is below it are left out.</param>
    public static Image Draw(Image image, IReadOnlyList<SegmentedInstance> instances, IReadOnlyDictionary<long, string>? names, float drawThreshold)
    {
        using var bitmap = SkiaImages.ToBitmap(image);
        using var canvas = new SKCanvas(bitmap);
        int w = image.Width, h = image.Height;
        // Sizes grow with the image as detectron2's visualizer does, so labels read alike on small and large photos.
        float fontSize = MathF.Max(MathF.Sqrt((float)w * h) / 90, 10), lineWidth = MathF.Max(fontSize / 6, 1.5f);
        // Lowest score first, so the most confident instances end up on top.
        var shown = instances.Where(i => i.MaskScore >= drawThreshold).OrderBy(i => i.MaskScore).ToList();
        // Rounded corners turn the pixel staircase of a mask's edge into a smooth antialiased curve.
        using var corners = SKPathEffect.CreateCorner(MathF.Max(2, lineWidth));
        foreach (var instance in shown)
        {
            var color = CategoryColors.Of(instance.CategoryId);
            using var outline = MaskPath.Of(instance.Mask);
            using var fill = new SKPaint { Color = color.WithAlpha(FillAlpha), IsAntialias = true, PathEffect = corners };
            canvas.DrawPath(outline, fill);
            using var edge = new SKPaint { Color = color, IsAntialias = true, PathEffect = corners, Style = SKPaintStyle.Stroke, StrokeWidth = lineWidth };
            canvas.DrawPath(outline, edge);
        }
        // Boxes and labels after every mask, so no mask hides a label.
        foreach (var instance in shown)
        {
            var color = CategoryColors.Of(instance.CategoryId);
            var box = new SKRect(instance.X1, instance.Y1, instance.X2, instance.Y2);
            using var boxPaint = new SKPaint { Color = color, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeWidth = lineWidth };
            canvas.DrawRect(box, boxPaint);
            string text = InstanceLabel.Text(instance, names);
            InstanceLabel.Draw(canvas, text, InstanceLabel.Place(text, box, fontSize, w, h), color);
        }
        return SkiaImages.ToImage(bitmap);
    }
}
