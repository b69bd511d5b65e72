using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Safetensors;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>Masks a fixture stores as COCO uncompressed RLE (tests/reference/fixture_io.py's rle_masks).</summary>
internal static class RleFixture
{
    /// <summary>The masks under <paramref name="key"/>: each mask's counts, one mask after another, and their lengths.</summary>
    public static List<Rle> Load(SafetensorsFile fixture, string key, int height, int width)
    {
        using var lengths = fixture.Load(key + ".rle.lengths");
        using var counts = fixture.Load(key + ".rle.counts");
        var all = counts.AsSpan<int>();
        var result = new List<Rle>();
        int start = 0;
        foreach (int length in lengths.AsSpan<int>())
        {
            result.Add(new Rle(height, width, [.. all.Slice(start, length).ToArray().Select(c => (uint)c)]));
            start += length;
        }
        return result;
    }
}
