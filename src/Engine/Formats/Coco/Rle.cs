using System.Text;

namespace NativeSeg.Engine.Formats.Coco;

/// <summary>A box as COCO writes it: left, top, width, height in pixels.</summary>
public readonly record struct CocoBox(double X, double Y, double Width, double Height)
{
    public double Area => Width * Height;
}

/// <summary>
/// A binary mask as pycocotools' run-length encoding: column-major scan, runs alternate starting with
/// a (possibly empty) run of zeros. Every operation reproduces pycocotools' maskApi.c bit for bit,
/// because evaluation numbers and the compressed strings other tools read depend on those exact rules.
/// </summary>
public sealed class Rle
{
    private readonly uint[] _counts;
    private CocoBox? _box;
    private long _area = -1;

    /// <summary>Takes ownership of <paramref name="counts"/>; they must cover exactly height × width pixels.</summary>
    public Rle(int height, int width, uint[] counts)
    {
        if (height < 0 || width < 0) throw new ArgumentOutOfRangeException(nameof(height), $"mask size {height}x{width} is negative");
        ulong total = 0;
        foreach (uint c in counts) total += c;
        if (total != (ulong)height * (ulong)width)
            throw new FormatException($"RLE counts cover {total} pixels but the mask is {height}x{width} = {(ulong)height * (ulong)width}");
        Height = height;
        Width = width;
        _counts = counts;
    }

    public int Height { get; }
    public int Width { get; }
    public ReadOnlySpan<uint> Counts => _counts;

    /// <summary>Pixels set: the sum of the odd-indexed runs.</summary>
    public long Area
    {
        get
        {
            if (_area < 0)
            {
                long a = 0;
                for (int j = 1; j < _counts.Length; j += 2) a += _counts[j];
                _area = a;
            }
            return _area;
        }
    }

    /// <summary>Encodes a column-major mask (index x·height + y); any non-zero byte is foreground.</summary>
    public static Rle FromColumnMajor(ReadOnlySpan<byte> mask, int height, int width)
    {
        CheckSize(mask.Length, height, width);
        var counts = new List<uint>();
        bool on = false;
        uint run = 0;
        foreach (byte b in mask)
        {
            if ((b != 0) != on) { counts.Add(run); run = 0; on = !on; }
            run++;
        }
        counts.Add(run);
        return new Rle(height, width, counts.ToArray());
    }

    /// <summary>Encodes a row-major mask (index y·width + x), the layout images are drawn in.</summary>
    public static Rle FromRowMajor(ReadOnlySpan<byte> mask, int height, int width)
    {
        CheckSize(mask.Length, height, width);
        var counts = new List<uint>();
        bool on = false;
        uint run = 0;
        for (int x = 0; x < width; x++)
            for (int y = 0; y < height; y++)
            {
                if ((mask[y * width + x] != 0) != on) { counts.Add(run); run = 0; on = !on; }
                run++;
            }
        counts.Add(run);
        return new Rle(height, width, counts.ToArray());
    }

    /// <summary>
    /// Encodes a mask that is empty outside the rectangle at (x0, y0) of the given size, whose pixels
    /// come row-major in <paramref name="crop"/>; the runs are those FromColumnMajor gives for the full mask.
    /// </summary>
    public static Rle FromCrop(ReadOnlySpan<byte> crop, int x0, int y0, int cropWidth, int cropHeight, int height, int width)
    {
        CheckSize(crop.Length, cropHeight, cropWidth);
        if (x0 < 0 || y0 < 0 || x0 + cropWidth > width || y0 + cropHeight > height)
            throw new ArgumentException($"crop {cropWidth}x{cropHeight} at ({x0}, {y0}) leaves the {width}x{height} mask");
        var counts = new List<uint>();
        long last = 0, onEnd = 0;
        bool on = false;
        for (int x = 0; x < cropWidth; x++)
            for (int y = 0; y < cropHeight; y++)
            {
                long pos = (long)(x + x0) * height + y + y0;
                // A run of ones stops where the crop's column segment stops, unless the next segment continues it.
                if (on && pos != onEnd) { counts.Add((uint)(onEnd - last)); last = onEnd; on = false; }
                bool value = crop[y * cropWidth + x] != 0;
                if (value != on) { counts.Add((uint)(pos - last)); last = pos; on = value; }
                if (on) onEnd = pos + 1;
            }
        long total = (long)height * width;
        if (on)
        {
            counts.Add((uint)(onEnd - last));
            last = onEnd;
            if (total > last) counts.Add((uint)(total - last));
        }
        else counts.Add((uint)(total - last));
        return new Rle(height, width, counts.ToArray());
    }

    private static void CheckSize(int length, int height, int width)
    {
        if ((long)height * width != length) throw new ArgumentException($"mask has {length} bytes, expected {height}x{width}");
    }

    /// <summary>The mask as 0/1 bytes, column-major.</summary>
    public byte[] ToColumnMajor()
    {
        var m = new byte[(long)Height * Width];
        long p = 0;
        for (int j = 0; j < _counts.Length; j++)
        {
            if ((j & 1) == 1) m.AsSpan((int)p, (int)_counts[j]).Fill(1);
            p += _counts[j];
        }
        return m;
    }

    /// <summary>The mask as 0/1 bytes, row-major.</summary>
    public byte[] ToRowMajor()
    {
        var m = new byte[(long)Height * Width];
        long p = 0;
        for (int j = 0; j < _counts.Length; j++)
        {
            if ((j & 1) == 1)
                for (long q = p; q < p + _counts[j]; q++)
                    m[(q % Height) * Width + q / Height] = 1;
            p += _counts[j];
        }
        return m;
    }

    /// <summary>
    /// The tight box as rleToBbox computes it, quirks included: a run of ones that wraps into the next
    /// column widens the box to the full height, and arithmetic is on unsigned 32-bit integers.
    /// </summary>
    public CocoBox ToBox()
    {
        if (_box is { } cached) return cached;
        uint h = (uint)Height, w = (uint)Width;
        int m = _counts.Length / 2 * 2;
        CocoBox box;
        // pycocotools divides by the height here even when it is zero; a mask without rows has no box.
        if (m == 0 || h == 0) box = new CocoBox(0, 0, 0, 0);
        else
        {
            uint xs = w, ys = h, xe = 0, ye = 0, cc = 0, xp = 0;
            for (int j = 0; j < m; j++)
            {
                cc = unchecked(cc + _counts[j]);
                uint t = unchecked(cc - (uint)(j % 2));
                uint y = t % h, x = (t - y) / h;
                if (j % 2 == 0) xp = x;
                else if (xp < x) { ys = 0; ye = h - 1; }
                xs = Math.Min(xs, x); xe = Math.Max(xe, x); ys = Math.Min(ys, y); ye = Math.Max(ye, y);
            }
            box = new CocoBox(xs, ys, unchecked(xe - xs + 1), unchecked(ye - ys + 1));
        }
        _box = box;
        return box;
    }

    /// <summary>
    /// Union (or intersection) of masks of one size; rebuilds runs so the result has no empty runs
    /// except a leading one, exactly like rleMerge. A single mask is returned unchanged.
    /// </summary>
    public static Rle Merge(IReadOnlyList<Rle> masks, bool intersect = false)
    {
        if (masks.Count == 0) return new Rle(0, 0, []);
        Rle acc = masks[0];
        for (int i = 1; i < masks.Count; i++) acc = MergeTwo(acc, masks[i], intersect);
        return acc;
    }

    private static Rle MergeTwo(Rle a, Rle b, bool intersect)
    {
        if (a.Height != b.Height || a.Width != b.Width)
            throw new ArgumentException($"cannot merge masks of different sizes {a.Height}x{a.Width} and {b.Height}x{b.Width}");
        var output = new List<uint>(a._counts.Length + b._counts.Length);
        ReadOnlySpan<uint> ac = a._counts, bc = b._counts;
        uint ca = ac.Length > 0 ? ac[0] : 0, cb = bc.Length > 0 ? bc[0] : 0;
        int ia = 1, ib = 1;
        bool va = false, vb = false, v = false;
        uint cc = 0;
        bool more = true;
        while (more)
        {
            uint c = Math.Min(ca, cb);
            cc += c;
            ca -= c;
            if (ca == 0 && ia < ac.Length) { ca = ac[ia++]; va = !va; }
            cb -= c;
            if (cb == 0 && ib < bc.Length) { cb = bc[ib++]; vb = !vb; }
            more = ca + (ulong)cb > 0;
            bool previous = v;
            v = intersect ? va && vb : va || vb;
            if (v != previous || !more) { output.Add(cc); cc = 0; }
        }
        return new Rle(a.Height, a.Width, output.ToArray());
    }

    /// <summary>Pixels set in both masks.</summary>
    public static long Intersection(Rle a, Rle b)
    {
        ReadOnlySpan<uint> ac = a._counts, bc = b._counts;
        if (ac.Length == 0 || bc.Length == 0) return 0;
        // Walk both run lists by absolute position; only overlaps of odd (foreground) runs count.
        int ia = 1, ib = 1;
        long aStart = ac[0], bStart = bc[0];
        long inter = 0;
        while (ia < ac.Length && ib < bc.Length)
        {
            long aEnd = aStart + ac[ia], bEnd = bStart + bc[ib];
            long lo = Math.Max(aStart, bStart), hi = Math.Min(aEnd, bEnd);
            if (hi > lo) inter += hi - lo;
            if (aEnd <= bEnd)
            {
                aStart = aEnd + (ia + 1 < ac.Length ? ac[ia + 1] : 0);
                ia += 2;
            }
            else
            {
                bStart = bEnd + (ib + 1 < bc.Length ? bc[ib + 1] : 0);
                ib += 2;
            }
        }
        return inter;
    }

    /// <summary>
    /// rleIou: intersection over union, or over the detection's own area when the ground truth is a crowd
    /// region; 0 when nothing overlaps. Masks of different sizes are an error here rather than pycocotools' −1,
    /// because a result mask whose size differs from its image is a broken results file.
    /// </summary>
    public static double Iou(Rle detection, Rle groundTruth, bool crowd)
    {
        if (detection.Height != groundTruth.Height || detection.Width != groundTruth.Width)
            throw new ArgumentException($"mask sizes differ: {detection.Height}x{detection.Width} vs {groundTruth.Height}x{groundTruth.Width}");
        if (!BoxesOverlap(detection.ToBox(), groundTruth.ToBox())) return 0;
        long i = Intersection(detection, groundTruth);
        if (i == 0) return 0;
        double u = crowd ? detection.Area : detection.Area + groundTruth.Area - i;
        return i / u;
    }

    private static bool BoxesOverlap(CocoBox d, CocoBox g) =>
        Math.Min(d.X + d.Width, g.X + g.Width) - Math.Max(d.X, g.X) > 0
        && Math.Min(d.Y + d.Height, g.Y + g.Height) - Math.Max(d.Y, g.Y) > 0;

    /// <summary>bbIou: box IoU, or intersection over the detection box's area for a crowd ground truth.</summary>
    public static double BoxIou(CocoBox d, CocoBox g, bool crowd)
    {
        double w = Math.Min(d.Width + d.X, g.Width + g.X) - Math.Max(d.X, g.X);
        if (w <= 0) return 0;
        double h = Math.Min(d.Height + d.Y, g.Height + g.Y) - Math.Max(d.Y, g.Y);
        if (h <= 0) return 0;
        double i = w * h;
        double u = crowd ? d.Width * d.Height : d.Width * d.Height + g.Width * g.Height - i;
        return i / u;
    }

    /// <summary>
    /// Foreground pixels inside the pixel rectangle [x0, x1) × [y0, y1); used for occlusion ratios.
    /// </summary>
    public long CountInRectangle(int x0, int y0, int x1, int y1)
    {
        x0 = Math.Max(x0, 0); y0 = Math.Max(y0, 0); x1 = Math.Min(x1, Width); y1 = Math.Min(y1, Height);
        if (x1 <= x0 || y1 <= y0) return 0;
        long h = Height, total = 0, p = 0;
        for (int j = 0; j < _counts.Length; j++)
        {
            long start = p, end = p + _counts[j];
            p = end;
            if ((j & 1) == 0 || end <= start) continue;
            long firstColumn = Math.Max(start / h, x0), lastColumn = Math.Min((end - 1) / h, x1 - 1);
            for (long x = firstColumn; x <= lastColumn; x++)
            {
                long lo = Math.Max(start, x * h + y0), hi = Math.Min(end, x * h + y1);
                if (hi > lo) total += hi - lo;
            }
        }
        return total;
    }

    /// <summary>
    /// pycocotools' compressed string: each count (from the fourth on, as the difference to the count two
    /// before) in little-endian groups of 5 bits, 0x20 marking continuation, offset by 48 into printable ASCII.
    /// </summary>
    public string ToCompressedString()
    {
        var s = new StringBuilder(_counts.Length * 2);
        for (int i = 0; i < _counts.Length; i++)
        {
            long x = _counts[i];
            if (i > 2) x -= _counts[i - 2];
            bool more = true;
            while (more)
            {
                int c = (int)(x & 0x1f);
                x >>= 5;
                more = (c & 0x10) != 0 ? x != -1 : x != 0;
                if (more) c |= 0x20;
                s.Append((char)(c + 48));
            }
        }
        return s.ToString();
    }

    public static Rle FromCompressedString(string counts, int height, int width)
    {
        var values = new List<uint>(counts.Length);
        int p = 0;
        while (p < counts.Length)
        {
            long x = 0;
            int k = 0;
            bool more = true;
            while (more)
            {
                if (p >= counts.Length) throw new FormatException("compressed RLE string ends inside a count");
                int c = counts[p] - 48;
                if (c < 0 || c > 63) throw new FormatException($"compressed RLE string has character '{counts[p]}' outside '0'..'o'");
                x |= (long)(c & 0x1f) << (5 * k);
                more = (c & 0x20) != 0;
                p++;
                k++;
                if (!more && (c & 0x10) != 0) x |= -1L << (5 * k);
            }
            if (values.Count > 2) x += values[^2];
            if (x < 0 || x > uint.MaxValue) throw new FormatException($"compressed RLE string decodes to count {x}");
            values.Add((uint)x);
        }
        return new Rle(height, width, values.ToArray());
    }

    /// <summary>
    /// rleFrPoly: the polygon (x0, y0, x1, y1, …) is walked on a 5× upsampled integer grid, its crossings
    /// of pixel-centre columns become run boundaries; pixel (x, y) is inside when its centre column crossing
    /// lies at or above y + 0.5 as that rounding defines. Same input, same pixels as pycocotools.
    /// </summary>
    public static Rle FromPolygon(ReadOnlySpan<double> xy, int height, int width)
    {
        CheckPolygon(xy, height, width);
        const double scale = 5;
        int k = xy.Length / 2;
        var xs = new int[k + 1];
        var ys = new int[k + 1];
        for (int j = 0; j < k; j++)
        {
            xs[j] = (int)(scale * xy[2 * j] + 0.5);
            ys[j] = (int)(scale * xy[2 * j + 1] + 0.5);
        }
        if (k > 0) { xs[k] = xs[0]; ys[k] = ys[0]; }

        // Dense boundary points on the upsampled grid, one per step along the edge's major axis.
        var u = new List<int>();
        var v = new List<int>();
        for (int j = 0; j < k; j++)
        {
            int x0 = xs[j], x1 = xs[j + 1], y0 = ys[j], y1 = ys[j + 1];
            int dx = Math.Abs(x1 - x0), dy = Math.Abs(y0 - y1);
            bool flip = (dx >= dy && x0 > x1) || (dx < dy && y0 > y1);
            if (flip) { (x0, x1) = (x1, x0); (y0, y1) = (y1, y0); }
            if (dx == 0 && dy == 0)
            {
                // A repeated vertex; upstream's 0/0 slope gives this point an undefined y that is never read,
                // because its neighbours share its x.
                u.Add(x0); v.Add(y0);
            }
            else if (dx >= dy)
            {
                double s = (double)(y1 - y0) / dx;
                for (int d = 0; d <= dx; d++)
                {
                    int t = flip ? dx - d : d;
                    u.Add(t + x0); v.Add((int)(y0 + s * t + 0.5));
                }
            }
            else
            {
                double s = (double)(x1 - x0) / dy;
                for (int d = 0; d <= dy; d++)
                {
                    int t = flip ? dy - d : d;
                    v.Add(t + y0); u.Add((int)(x0 + s * t + 0.5));
                }
            }
        }

        // Keep the points where the boundary crosses a pixel-centre column, mapped back to pixel rows.
        var positions = new List<uint>();
        for (int j = 1; j < u.Count; j++)
        {
            if (u[j] == u[j - 1]) continue;
            double xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
            xd = (xd + 0.5) / scale - 0.5;
            if (Math.Floor(xd) != xd || xd < 0 || xd > width - 1) continue;
            double yd = Math.Min(v[j], v[j - 1]);
            yd = (yd + 0.5) / scale - 0.5;
            if (yd < 0) yd = 0;
            else if (yd > height) yd = height;
            yd = Math.Ceiling(yd);
            positions.Add(unchecked((uint)((int)xd * height + (int)yd)));
        }
        positions.Add((uint)(height * width));
        positions.Sort();

        // Sorted crossing positions become run lengths; a zero-length run means two crossings at one
        // position cancel, so it is dropped and the next run joins the previous one.
        var diffs = new uint[positions.Count];
        uint previous = 0;
        for (int j = 0; j < positions.Count; j++) { diffs[j] = positions[j] - previous; previous = positions[j]; }
        var counts = new List<uint>(diffs.Length) { diffs[0] };
        for (int j = 1; j < diffs.Length;)
        {
            if (diffs[j] > 0) counts.Add(diffs[j++]);
            else
            {
                j++;
                if (j < diffs.Length) counts[^1] += diffs[j++];
            }
        }
        return new Rle(height, width, counts.ToArray());
    }

    /// <summary>
    /// The walk takes a step per upsampled pixel of each edge, inside the image or not, so a coordinate far
    /// outside would cost gigabytes (and one beyond int overflows the grid); the limit leaves every real
    /// annotation, and any polygon within an image size of the image, as pycocotools rasterises it.
    /// </summary>
    private static void CheckPolygon(ReadOnlySpan<double> xy, int height, int width)
    {
        if (height < 0 || width < 0) throw new FormatException($"mask size {height}x{width} is negative");
        if ((long)height * width > uint.MaxValue) throw new FormatException($"a {height}x{width} mask has more pixels than RLE counts can hold");
        // Five times a coordinate, and the difference of two, must also fit an int on the upsampled grid.
        double limit = Math.Min(2.0 * Math.Max(height, width) + MaxPolygonOverhang, int.MaxValue / 10);
        foreach (double v in xy)
            if (!(Math.Abs(v) <= limit))
                throw new FormatException($"polygon coordinate {v} is outside ±{limit}, the range allowed on a {width}x{height} image");
    }

    /// <summary>How far past twice the image size a polygon may reach, in pixels.</summary>
    private const double MaxPolygonOverhang = 65536;

    /// <summary>rleFrBbox: the box rasterised as the polygon through its four corners.</summary>
    public static Rle FromBox(CocoBox box, int height, int width)
    {
        double x0 = box.X, x1 = box.X + box.Width, y0 = box.Y, y1 = box.Y + box.Height;
        return FromPolygon([x0, y0, x0, y1, x1, y1, x1, y0], height, width);
    }
}
