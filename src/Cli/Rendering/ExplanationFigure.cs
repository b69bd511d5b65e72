using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Inference;
using SkiaSharp;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// `segment --explain`'s picture of one instance, like BCNet's figures: rows that each start with the RoI crop,
/// followed by the maps behind the mask as heatmaps over the crop, each stretched over the RoI as the model
/// predicted it (BCNet: occluder and occludee masks and boundaries; BlendMask: its bases and their attentions).
/// Probabilities use a fixed ramp; signed maps a diverging one scaled by the map's largest magnitude.
/// </summary>
internal static class ExplanationFigure
{
    private const int Panel = 160, Gap = 4, Title = 16;
    private const float TitleSize = 12;

    public static Image Draw(Image image, ExplainedInstance explained, IReadOnlyDictionary<long, string>? names)
    {
        var rgb = image.ToRgb();
        int columns = Math.Max(explained.Columns, 1), rows = (explained.Maps.Count + columns - 1) / columns;
        int width = (columns + 1) * Panel + columns * Gap, height = rows * (Title + Panel) + (rows - 1) * Gap;
        var pixels = new byte[width * height * 3];
        var titles = new List<(string Text, int Left, int Top)>();
        for (int row = 0; row < rows; row++)
        {
            int top = row * (Title + Panel + Gap);
            titles.Add((row == 0 ? InstanceLabel.Text(explained.Instance, names) : "", 0, top));
            DrawPanel(pixels, width, 0, top + Title, rgb, explained, null);
            for (int column = 0; column < columns && row * columns + column < explained.Maps.Count; column++)
            {
                var map = explained.Maps[row * columns + column];
                int left = (column + 1) * (Panel + Gap);
                titles.Add((map.Title, left, top));
                DrawPanel(pixels, width, left, top + Title, rgb, explained, map);
            }
        }
        return WithTitles(new Image(width, height, 3, pixels), titles);
    }

    /// <summary>The RoI crop at (left, top), with <paramref name="map"/> blended over it when there is one.</summary>
    private static void DrawPanel(byte[] pixels, int width, int left, int top, Image rgb, ExplainedInstance explained, ExplanationMap? map)
    {
        float range = map is { Scale: MapScale.Signed } ? Math.Max(map.Values.Max(MathF.Abs), float.Epsilon) : 1;
        for (int v = 0; v < Panel; v++)
            for (int u = 0; u < Panel; u++)
            {
                var crop = Crop(rgb, explained, u, v);
                var color = map is null ? crop
                    : Blend(crop, map.Scale == MapScale.Signed ? Diverging(Sample(map.Values, map.Side, u, v) / range) : Heat(Sample(map.Values, map.Side, u, v)));
                int p = ((top + v) * width + left + u) * 3;
                (pixels[p], pixels[p + 1], pixels[p + 2]) = color;
            }
    }

    /// <summary>Each panel's title in white on the black strip above it, cut at the panel's edge rather than running into the next.</summary>
    private static Image WithTitles(Image figure, IReadOnlyList<(string Text, int Left, int Top)> titles)
    {
        using var bitmap = SkiaImages.ToBitmap(figure);
        using var canvas = new SKCanvas(bitmap);
        using var font = LabelFont.Create(TitleSize);
        using var ink = new SKPaint { Color = SKColors.White, IsAntialias = true };
        foreach (var (text, left, top) in titles)
        {
            canvas.Save();
            canvas.ClipRect(SKRect.Create(left, top, Panel, Title));
            canvas.DrawText(text, left + 2, top + Title - 4, SKTextAlign.Left, font, ink);
            canvas.Restore();
        }
        return SkiaImages.ToImage(bitmap);
    }

    /// <summary>The image pixel under panel pixel (u, v), nearest; mid-grey where the RoI leaves the image.</summary>
    private static (byte, byte, byte) Crop(Image rgb, ExplainedInstance e, int u, int v)
    {
        int x = (int)MathF.Floor(e.RoiX1 + (u + 0.5f) / Panel * (e.RoiX2 - e.RoiX1));
        int y = (int)MathF.Floor(e.RoiY1 + (v + 0.5f) / Panel * (e.RoiY2 - e.RoiY1));
        if ((uint)x >= (uint)rgb.Width || (uint)y >= (uint)rgb.Height) return (128, 128, 128);
        int p = (y * rgb.Width + x) * 3;
        return (rgb.Pixels[p], rgb.Pixels[p + 1], rgb.Pixels[p + 2]);
    }

    /// <summary>Bilinear value of the side×side map at panel pixel (u, v), pixel centres aligned as the paste does.</summary>
    private static float Sample(float[] map, int side, int u, int v)
    {
        float fx = Math.Clamp((u + 0.5f) / Panel * side - 0.5f, 0, side - 1), fy = Math.Clamp((v + 0.5f) / Panel * side - 0.5f, 0, side - 1);
        int x0 = (int)fx, y0 = (int)fy, x1 = Math.Min(x0 + 1, side - 1), y1 = Math.Min(y0 + 1, side - 1);
        float ax = fx - x0, ay = fy - y0;
        float top = map[y0 * side + x0] * (1 - ax) + map[y0 * side + x1] * ax;
        float bottom = map[y1 * side + x0] * (1 - ax) + map[y1 * side + x1] * ax;
        return top * (1 - ay) + bottom * ay;
    }

    /// <summary>A jet-like ramp: blue at 0 through cyan, yellow to red at 1.</summary>
    private static (byte, byte, byte) Heat(float p)
    {
        static byte Channel(float t) => (byte)(255 * Math.Clamp(1.5f - Math.Abs(t), 0, 1));
        float x = 4 * Math.Clamp(p, 0, 1);
        return (Channel(x - 3), Channel(x - 2), Channel(x - 1));
    }

    /// <summary>Blue for −1 through white at 0 to red for +1.</summary>
    private static (byte, byte, byte) Diverging(float t)
    {
        t = Math.Clamp(t, -1, 1);
        byte fade = (byte)(255 * (1 - Math.Abs(t)));
        return t >= 0 ? ((byte)255, fade, fade) : (fade, fade, (byte)255);
    }

    private static (byte, byte, byte) Blend((byte R, byte G, byte B) image, (byte R, byte G, byte B) heat) =>
        ((byte)((2 * image.R + 3 * heat.R) / 5), (byte)((2 * image.G + 3 * heat.G) / 5), (byte)((2 * image.B + 3 * heat.B) / 5));
}
