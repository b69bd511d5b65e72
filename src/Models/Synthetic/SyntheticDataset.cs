using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Randomness;

namespace NativeSeg.Models.Synthetic;

public sealed record SyntheticOptions(int Images, int Width = 640, int Height = 480, int Classes = 6, int InstancesPerImage = 8,
    ulong Seed = 0, int MinVisibleArea = 24);

/// <summary>One generated image: RGB pixels (row-major) and its instances, farthest first.</summary>
public sealed record SyntheticImage(int Index, byte[] Rgb, IReadOnlyList<SyntheticInstance> Instances);

/// <summary>
/// An instance with its full (amodal) mask, the visible part of it, and the occluder region in BCNet's
/// sense: the pixels of its (visible) box covered by instances drawn above it.
/// </summary>
public sealed record SyntheticInstance(int Category, int Depth, Rle Amodal, Rle Visible, Rle Occluder);

/// <summary>
/// Overlapping textured shapes (ellipses, rectangles, triangles, pentagons, hexagons, stars) on varied
/// backgrounds, drawn in a known depth order, so modal, amodal and occluder annotations are exact.
/// </summary>
public static class SyntheticDataset
{
    private static readonly string[] Kinds = ["ellipse", "rectangle", "triangle", "pentagon", "hexagon", "star"];

    /// <summary>Class k is shape kind k mod 6; classes beyond six reuse a kind with their own colour family.</summary>
    public static string CategoryName(int k) => k < Kinds.Length ? Kinds[k] : $"{Kinds[k % Kinds.Length]}-{k / Kinds.Length + 1}";

    public static SyntheticImage Generate(SyntheticOptions options, int index)
    {
        var rng = SplitMix64.ForItem(options.Seed, index);
        int w = options.Width, h = options.Height;
        var rgb = new byte[w * h * 3];
        DrawBackground(rgb, w, h, rng);

        // Shapes are drawn back to front; the amodal masks come first so visibility can be decided top-down.
        var shapes = new List<(int Category, Shape Shape, Texture Texture)>();
        for (int i = 0; i < options.InstancesPerImage; i++)
        {
            int category = rng.NextInt(options.Classes);
            shapes.Add((category, RasteriseShape(category % Kinds.Length, w, h, rng), new Texture(category, rng)));
        }

        // Top-down: what is covered so far is exactly what lies above the current shape. Shapes left with
        // too few visible pixels are dropped before anything is drawn, so they leave no trace.
        var covered = new byte[w * h];
        var kept = new List<(int Category, Shape Shape, Texture Texture, Rle Visible, Rle Occluder)>();
        for (int i = shapes.Count - 1; i >= 0; i--)
        {
            var (category, shape, texture) = shapes[i];
            var visible = new byte[shape.Mask.Length];
            int visibleArea = 0;
            for (int y = 0; y < shape.Height; y++)
                for (int x = 0; x < shape.Width; x++)
                {
                    int c = y * shape.Width + x;
                    if (shape.Mask[c] != 0 && covered[(y + shape.Y0) * w + x + shape.X0] == 0) { visible[c] = 1; visibleArea++; }
                }
            if (visibleArea < options.MinVisibleArea) continue;
            var visibleRle = Rle.FromCrop(visible, shape.X0, shape.Y0, shape.Width, shape.Height, h, w);
            var box = visibleRle.ToBox();
            int x0 = (int)box.X, y0 = (int)box.Y, bw = (int)box.Width, bh = (int)box.Height;
            var occluder = new byte[bw * bh];
            for (int y = 0; y < bh; y++)
                for (int x = 0; x < bw; x++) occluder[y * bw + x] = covered[(y + y0) * w + x + x0];
            kept.Add((category, shape, texture, visibleRle, Rle.FromCrop(occluder, x0, y0, bw, bh, h, w)));
            for (int y = 0; y < shape.Height; y++)
                for (int x = 0; x < shape.Width; x++) covered[(y + shape.Y0) * w + x + shape.X0] |= shape.Mask[y * shape.Width + x];
        }
        kept.Reverse();

        var instances = new List<SyntheticInstance>(kept.Count);
        for (int depth = 0; depth < kept.Count; depth++)
        {
            var (category, shape, texture, visible, occluder) = kept[depth];
            texture.Paint(rgb, shape, w);
            var amodal = Rle.FromCrop(shape.Mask, shape.X0, shape.Y0, shape.Width, shape.Height, h, w);
            instances.Add(new SyntheticInstance(category, depth, amodal, visible, occluder));
        }
        return new SyntheticImage(index, rgb, instances);
    }

    /// <summary>
    /// The occluder region as BCNet-style polygons that pycocotools rasterises back to exactly these pixels:
    /// pixel-corner rectangles, one per run of columns sharing the same vertical run. (BCNet's own
    /// find_contours polygons come out about a pixel dilated; exact ones let tests compare masks.)
    /// </summary>
    public static List<double[]> ToRectanglePolygons(Rle region)
    {
        var polygons = new List<double[]>();
        int h = region.Height;
        // Vertical runs per column, then extend each run over following columns that have the same run.
        var open = new Dictionary<(int Y0, int Y1), int>();
        var columns = new List<(int Y0, int Y1)>[region.Width];
        for (int x = 0; x < region.Width; x++) columns[x] = [];
        long p = 0;
        ReadOnlySpan<uint> counts = region.Counts;
        for (int j = 0; j < counts.Length; j++)
        {
            long end = p + counts[j];
            if ((j & 1) == 1)
                for (long s = p; s < end;)
                {
                    int x = (int)(s / h), y = (int)(s % h);
                    int y1 = (int)Math.Min(h, y + (end - s));
                    columns[x].Add((y, y1));
                    s += y1 - y;
                }
            p = end;
        }
        for (int x = 0; x <= region.Width; x++)
        {
            var here = x < region.Width ? columns[x] : [];
            foreach (var run in open.Keys.ToList())
                if (!here.Contains(run))
                {
                    int start = open[run];
                    polygons.Add([start, run.Y0, x, run.Y0, x, run.Y1, start, run.Y1]);
                    open.Remove(run);
                }
            foreach (var run in here) open.TryAdd(run, x);
        }
        return polygons;
    }

    /// <summary>The dataset's COCO form: visible masks as segmentation, amodal masks, occluder polygons, depth.</summary>
    public static CocoDataset ToCoco(SyntheticOptions options, IEnumerable<SyntheticImage> images, string imageExtension)
    {
        var dataset = new CocoDataset();
        for (int k = 0; k < options.Classes; k++) dataset.Categories.Add(new CocoCategory(k + 1, CategoryName(k), "shape"));
        long annotationId = 1;
        foreach (var image in images)
        {
            long imageId = image.Index + 1;
            dataset.Images.Add(new CocoImage(imageId, options.Width, options.Height, ImageFileName(image.Index, imageExtension)));
            foreach (var instance in image.Instances)
                dataset.Annotations.Add(new CocoAnnotation
                {
                    Id = annotationId++, ImageId = imageId, CategoryId = instance.Category + 1,
                    Segmentation = new RleSegmentation(instance.Visible), Area = instance.Visible.Area, Box = instance.Visible.ToBox(),
                    AmodalSegmentation = new RleSegmentation(instance.Amodal), OccluderPolygons = ToRectanglePolygons(instance.Occluder),
                    Depth = instance.Depth,
                });
        }
        return dataset;
    }

    public static string ImageFileName(int index, string extension) => $"images/{index + 1:D6}.{extension}";

    private static void DrawBackground(byte[] rgb, int w, int h, SplitMix64 rng)
    {
        var a = RandomColour(rng);
        var b = RandomColour(rng);
        int style = rng.NextInt(3);
        double angle = rng.Uniform(0, Math.PI), period = rng.Uniform(8, 48);
        double cos = Math.Cos(angle), sin = Math.Sin(angle), diagonal = Math.Sqrt((double)w * w + (double)h * h);
        uint noiseSeed = (uint)rng.NextUInt64();
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                double along = (x * cos + y * sin) / diagonal;
                double t = style switch
                {
                    0 => along,                                                                       // gradient
                    1 => (((int)Math.Floor(x / period) + (int)Math.Floor(y / period)) & 1) * 0.6 + along * 0.4, // checks
                    _ => 0.5 + 0.5 * Math.Sin(along * diagonal / period),                            // waves
                };
                double noise = (Hash(noiseSeed, x, y) & 31) / 31.0 * 0.15;
                Blend(rgb, (y * w + x) * 3, a, b, Math.Clamp(t + noise - 0.075, 0, 1));
            }
    }

    /// <summary>A shape's mask inside the image-clipped rectangle that can contain it, row-major.</summary>
    private sealed record Shape(int X0, int Y0, int Width, int Height, byte[] Mask);

    private static Shape RasteriseShape(int kind, int w, int h, SplitMix64 rng)
    {
        double scale = Math.Min(w, h);
        double cx = rng.Uniform(0, w), cy = rng.Uniform(0, h);
        double rx = rng.Uniform(0.06, 0.25) * scale, ry = rx * rng.Uniform(0.5, 1.5);
        double rotation = rng.Uniform(0, Math.PI * 2);
        double cos = Math.Cos(rotation), sin = Math.Sin(rotation);
        double[]? polygon = kind switch
        {
            0 => null,
            1 => RegularPolygon(4, Math.PI / 4, 1),
            2 => RegularPolygon(3, 0, 1),
            3 => RegularPolygon(5, 0, 1),
            4 => RegularPolygon(6, 0, 1),
            _ => RegularPolygon(10, 0, 0.45),
        };
        // Every vertex lies on the unit circle of the scaled frame, so max(rx, ry) bounds the shape.
        double reach = Math.Max(rx, ry) + 1;
        int xMin = Math.Max(0, (int)(cx - reach)), xMax = Math.Min(w - 1, (int)(cx + reach));
        int yMin = Math.Max(0, (int)(cy - reach)), yMax = Math.Min(h - 1, (int)(cy + reach));
        int bw = xMax - xMin + 1, bh = yMax - yMin + 1;
        var mask = new byte[bw * bh];
        for (int y = yMin; y <= yMax; y++)
            for (int x = xMin; x <= xMax; x++)
            {
                // Pixel centres, in the shape's own rotated and scaled frame.
                double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
                double u = (dx * cos + dy * sin) / rx, v = (-dx * sin + dy * cos) / ry;
                bool inside = polygon is null ? u * u + v * v <= 1 : InsidePolygon(polygon, u, v);
                if (inside) mask[(y - yMin) * bw + x - xMin] = 1;
            }
        return new Shape(xMin, yMin, bw, bh, mask);
    }

    /// <summary>Vertices on the unit circle; with inner &lt; 1 every other vertex moves inwards (a star).</summary>
    private static double[] RegularPolygon(int n, double phase, double inner)
    {
        var xy = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            double r = i % 2 == 1 ? inner : 1;
            double a = phase + i * 2 * Math.PI / n;
            xy[2 * i] = r * Math.Cos(a);
            xy[2 * i + 1] = r * Math.Sin(a);
        }
        return xy;
    }

    private static bool InsidePolygon(double[] xy, double x, double y)
    {
        bool inside = false;
        int n = xy.Length / 2;
        for (int i = 0, j = n - 1; i < n; j = i++)
        {
            double xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    }

    private static (byte R, byte G, byte B) RandomColour(SplitMix64 rng) =>
        ((byte)rng.NextInt(256), (byte)rng.NextInt(256), (byte)rng.NextInt(256));

    private static void Blend(byte[] rgb, int o, (byte R, byte G, byte B) a, (byte R, byte G, byte B) b, double t)
    {
        rgb[o] = (byte)Math.Round(a.R + (b.R - a.R) * t);
        rgb[o + 1] = (byte)Math.Round(a.G + (b.G - a.G) * t);
        rgb[o + 2] = (byte)Math.Round(a.B + (b.B - a.B) * t);
    }

    private static uint Hash(uint seed, int x, int y)
    {
        uint v = seed ^ (uint)x * 0x9E3779B1u ^ (uint)y * 0x85EBCA77u;
        v ^= v >> 15; v *= 0x2C1B3C6Du; v ^= v >> 12; v *= 0x297A2D39u; v ^= v >> 15;
        return v;
    }

    /// <summary>An instance's look: a colour family tied to its class, varied by a gradient, stripes or speckle.</summary>
    private sealed class Texture
    {
        private readonly (byte R, byte G, byte B) _a, _b;
        private readonly int _style;
        private readonly double _cos, _sin, _period;
        private readonly uint _seed;

        public Texture(int category, SplitMix64 rng)
        {
            // Hue from the class keeps classes visually distinct; the rest varies per instance.
            double hue = (category * 0.618034 % 1.0 + rng.Uniform(-0.04, 0.04) + 1) % 1.0;
            _a = FromHsv(hue, rng.Uniform(0.5, 1), rng.Uniform(0.5, 1));
            _b = FromHsv(hue, rng.Uniform(0.2, 0.9), rng.Uniform(0.2, 0.8));
            _style = rng.NextInt(3);
            double angle = rng.Uniform(0, Math.PI);
            _cos = Math.Cos(angle);
            _sin = Math.Sin(angle);
            _period = rng.Uniform(3, 12);
            _seed = (uint)rng.NextUInt64();
        }

        public void Paint(byte[] rgb, Shape shape, int w)
        {
            for (int y = shape.Y0; y < shape.Y0 + shape.Height; y++)
                for (int x = shape.X0; x < shape.X0 + shape.Width; x++)
                {
                    if (shape.Mask[(y - shape.Y0) * shape.Width + x - shape.X0] == 0) continue;
                    double along = x * _cos + y * _sin;
                    double t = _style switch
                    {
                        0 => 0.5 + 0.5 * Math.Sin(along / (_period * 4)),
                        1 => (int)Math.Floor(along / _period) % 2 == 0 ? 0.15 : 0.85,
                        _ => (Hash(_seed, x, y) & 255) / 255.0,
                    };
                    Blend(rgb, (y * w + x) * 3, _a, _b, t);
                }
        }

        private static (byte, byte, byte) FromHsv(double h, double s, double v)
        {
            double c = v * s, hp = h * 6, x = c * (1 - Math.Abs(hp % 2 - 1)), m = v - c;
            (double r, double g, double b) = (int)hp switch
            {
                0 => (c, x, 0.0), 1 => (x, c, 0.0), 2 => (0.0, c, x), 3 => (0.0, x, c), 4 => (x, 0.0, c), _ => (c, 0.0, x),
            };
            return ((byte)Math.Round((r + m) * 255), (byte)Math.Round((g + m) * 255), (byte)Math.Round((b + m) * 255));
        }
    }
}
