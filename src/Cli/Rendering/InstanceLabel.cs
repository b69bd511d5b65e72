using System.Globalization;
using NativeSeg.Models.Inference;
using SkiaSharp;

namespace NativeSeg.Cli.Rendering;

/// <summary>Where an instance's label goes and the font size it is drawn at: Background holds the text drawn from Baseline.</summary>
internal readonly record struct LabelLayout(SKRect Background, float FontSize, SKPoint Baseline);

/// <summary>An instance's "name score" label: its text, its place beside the box, and drawing it on its category's colour.</summary>
internal static class InstanceLabel
{
    private const float Padding = 0.2f;

    /// <param name="names">The model's category names; null for COCO's.</param>
    public static string Text(SegmentedInstance instance, IReadOnlyDictionary<long, string>? names)
    {
        string name = names is null
            ? CocoNames.Of(instance.CategoryId)
            : names.GetValueOrDefault(instance.CategoryId, instance.CategoryId.ToString(CultureInfo.InvariantCulture));
        return $"{name} {instance.MaskScore.ToString("0.00", CultureInfo.InvariantCulture)}";
    }

    /// <summary>
    /// Above the box's top-left corner, or just inside the box's top when there is no room above; then moved
    /// inside the image, so no part of the label is ever cut. A label larger than the image is drawn smaller.
    /// </summary>
    public static LabelLayout Place(string text, SKRect box, float fontSize, int width, int height)
    {
        var (size, bounds) = Measure(text, fontSize);
        while ((size.Width > width || size.Height > height) && fontSize > 1)
        {
            fontSize *= Math.Min(0.95f, Math.Min(width / size.Width, height / size.Height));
            (size, bounds) = Measure(text, fontSize);
        }
        float top = box.Top - size.Height < 0 ? box.Top : box.Top - size.Height;
        float left = Math.Clamp(box.Left, 0, Math.Max(0, width - size.Width));
        top = Math.Clamp(top, 0, Math.Max(0, height - size.Height));
        var background = SKRect.Create(left, top, size.Width, size.Height);
        return new LabelLayout(background, fontSize, new SKPoint(left - bounds.Left, top - bounds.Top));
    }

    /// <summary>The label on a background of <paramref name="color"/>, in black or white, whichever reads better on it.</summary>
    public static void Draw(SKCanvas canvas, string text, LabelLayout layout, SKColor color)
    {
        using var background = new SKPaint { Color = color };
        canvas.DrawRect(layout.Background, background);
        bool light = 0.299 * color.Red + 0.587 * color.Green + 0.114 * color.Blue > 150;
        using var ink = new SKPaint { Color = light ? SKColors.Black : SKColors.White, IsAntialias = true };
        using var font = LabelFont.Create(layout.FontSize);
        canvas.DrawText(text, layout.Baseline.X, layout.Baseline.Y, SKTextAlign.Left, font, ink);
    }

    /// <summary>
    /// The padded label size, and the text's box relative to the baseline origin: the font's full line height
    /// (so labels of one size line up) widened to the ink where glyphs overhang their advance.
    /// </summary>
    private static (SKSize Size, SKRect Bounds) Measure(string text, float fontSize)
    {
        using var font = LabelFont.Create(fontSize);
        float advance = font.MeasureText(text, out var ink);
        var metrics = font.Metrics;
        float pad = Padding * fontSize;
        var bounds = new SKRect(
            Math.Min(0, ink.Left) - pad, Math.Min(metrics.Ascent, ink.Top) - pad,
            Math.Max(advance, ink.Right) + pad, Math.Max(metrics.Descent, ink.Bottom) + pad);
        return (bounds.Size, bounds);
    }
}
