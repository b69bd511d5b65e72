using System.Text;
using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Fuzz.Targets;

/// <summary>
/// Rle.FromCompressedString on "HEIGHT WIDTH COUNTS" text, then the properties every decoded mask must keep:
/// the string re-encodes to the same runs, the area is the pixels set, and the mask has IoU 1 with itself
/// re-encoded from pixels. A broken property is reported as a crash.
/// </summary>
internal static class RleProperties
{
    // Bounds the pixel buffers the properties are checked on; sizes beyond are not decoded differently.
    private const int MaxSide = 1024;

    public static void Check(byte[] input)
    {
        string[] parts = Encoding.Latin1.GetString(input).Split(' ', 3);
        if (parts.Length < 3 || !int.TryParse(parts[0], out int height) || !int.TryParse(parts[1], out int width)
            || height is < 0 or > MaxSide || width is < 0 or > MaxSide)
            return;
        var mask = Rle.FromCompressedString(parts[2], height, width);

        var reencoded = Rle.FromCompressedString(mask.ToCompressedString(), height, width);
        if (!reencoded.Counts.SequenceEqual(mask.Counts)) throw new InvalidOperationException("the compressed string does not re-encode to the same runs");

        byte[] pixels = mask.ToColumnMajor();
        long set = pixels.Count(p => p != 0);
        if (set != mask.Area) throw new InvalidOperationException($"area {mask.Area} but {set} pixels set");
        // Empty runs after the first make pycocotools' rleToBbox (which ToBox reproduces, quirks included) give a box
        // that need not cover the pixels, and rleIou then reports 0 without intersecting: faithful, so only masks with
        // canonical runs must have IoU 1 with themselves.
        bool canonical = mask.Counts.Length < 2 || !mask.Counts[1..].Contains(0u);
        if (set > 0 && canonical && Rle.Iou(mask, Rle.FromColumnMajor(pixels, height, width), crowd: false) != 1)
            throw new InvalidOperationException("the mask's IoU with itself re-encoded from pixels is not 1");
        _ = mask.ToBox();
    }
}
