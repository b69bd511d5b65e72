using System.Globalization;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Rendering;

/// <summary>Draws instances on a copy of an RGB image: tinted masks, box outlines, and "name score" labels.</summary>
internal static class Overlay
{
    private const int TextScale = 2;

    private static readonly byte[][] Palette =
    [
        [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
        [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [170, 110, 40],
    ];

    /// <param name="names">The model's category names; null for COCO's.</param>
    public static Image Draw(Image image, IReadOnlyList<SegmentedInstance> instances, IReadOnlyDictionary<long, string>? names = null)
    {
        var rgb = image.ToRgb();
        var pixels = (byte[])rgb.Pixels.Clone();
        int w = rgb.Width, h = rgb.Height;
        // Lowest score first, so the most confident instances end up on top.
        var order = Enumerable.Range(0, instances.Count).OrderBy(i => instances[i].Score).ToList();
        foreach (int i in order)
        {
            var color = Palette[i % Palette.Length];
            // Tinted straight from the runs: a full-image mask per instance would cost instances × pixels.
            foreach (var (x, y0, y1) in instances[i].Mask.ColumnRuns())
                for (int y = y0; y < y1; y++)
                {
                    long p = ((long)y * w + x) * 3;
                    for (int c = 0; c < 3; c++) pixels[p + c] = (byte)((pixels[p + c] + color[c]) / 2);
                }
        }
        foreach (int i in order)
        {
            var inst = instances[i];
            var color = Palette[i % Palette.Length];
            int x1 = Clamp((int)inst.X1, w), y1 = Clamp((int)inst.Y1, h), x2 = Clamp((int)inst.X2, w), y2 = Clamp((int)inst.Y2, h);
            for (int x = x1; x <= x2; x++)
            {
                Put(pixels, w, h, x, y1, color);
                Put(pixels, w, h, x, y2, color);
            }
            for (int y = y1; y <= y2; y++)
            {
                Put(pixels, w, h, x1, y, color);
                Put(pixels, w, h, x2, y, color);
            }
            string name = names is null ? CocoNames.Of(inst.CategoryId) : names.GetValueOrDefault(inst.CategoryId, inst.CategoryId.ToString(CultureInfo.InvariantCulture));
            string label = $"{name} {inst.MaskScore.ToString("0.00", CultureInfo.InvariantCulture)}";
            Text(pixels, w, h, x1 + 2, Math.Max(0, y1 - BitmapFont.GlyphHeight * TextScale - 2), label, color);
        }
        return new Image(w, h, 3, pixels);
    }

    /// <summary>Writes <paramref name="text"/> in <paramref name="color"/> on a dark backing box with its top-left corner at (x0, y0).</summary>
    public static void Text(byte[] pixels, int w, int h, int x0, int y0, string text, byte[] color)
    {
        int advance = (BitmapFont.GlyphWidth + 1) * TextScale;
        // A dark backing box keeps the label readable on any background.
        for (int y = y0 - 1; y < y0 + BitmapFont.GlyphHeight * TextScale + 1; y++)
            for (int x = x0 - 1; x < x0 + text.Length * advance; x++) Put(pixels, w, h, x, y, [0, 0, 0]);
        for (int k = 0; k < text.Length; k++)
            for (int gy = 0; gy < BitmapFont.GlyphHeight; gy++)
                for (int gx = 0; gx < BitmapFont.GlyphWidth; gx++)
                {
                    if (!BitmapFont.IsSet(text[k], gx, gy)) continue;
                    for (int sy = 0; sy < TextScale; sy++)
                        for (int sx = 0; sx < TextScale; sx++)
                            Put(pixels, w, h, x0 + k * advance + gx * TextScale + sx, y0 + gy * TextScale + sy, color);
                }
    }

    private static void Put(byte[] pixels, int w, int h, int x, int y, byte[] color)
    {
        if ((uint)x >= (uint)w || (uint)y >= (uint)h) return;
        int p = (y * w + x) * 3;
        pixels[p] = color[0];
        pixels[p + 1] = color[1];
        pixels[p + 2] = color[2];
    }

    private static int Clamp(int v, int size) => Math.Clamp(v, 0, size - 1);
}
