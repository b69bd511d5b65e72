using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskRle;

/// <summary>Column-major 0/1 masks (index x·height + y) that the RLE checks, tests and benchmark encode, and their bits.</summary>
internal static class MaskRleMasks
{
    /// <summary>
    /// Empty, full, the first pixel, the last pixel, every other column, every other row, alternating pixels, one
    /// column, and random pixels: runs of every length from a pixel to the whole mask, at both ends.
    /// </summary>
    public static IReadOnlyList<byte[]> Patterns(int height, int width)
    {
        int pixels = height * width;
        var rng = new Random(pixels);
        byte[] Mask(Func<int, bool> on) => [.. Enumerable.Range(0, pixels).Select(p => (byte)(on(p) ? 1 : 0))];
        return
        [
            Mask(_ => false),
            Mask(_ => true),
            Mask(p => p == 0),
            Mask(p => p == pixels - 1),
            Mask(p => p / height % 2 == 0),
            Mask(p => p % height % 2 == 1),
            Mask(p => p % 2 == 0),
            Mask(p => p / height == width / 2),
            Mask(_ => rng.Next(2) == 1),
        ];
    }

    /// <summary>Pasted-looking masks: each an ellipse in a random box, some cut by the image's edges, with a few holes.</summary>
    public static IReadOnlyList<byte[]> Blobs(int seed, int count, int height, int width)
    {
        var rng = new Random(seed);
        var masks = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            double cx = rng.NextDouble() * width, cy = rng.NextDouble() * height;
            double rx = 1 + rng.NextDouble() * width / 3, ry = 1 + rng.NextDouble() * height / 3;
            var mask = new byte[height * width];
            for (int x = 0; x < width; x++)
                for (int y = 0; y < height; y++)
                {
                    double dx = (x - cx) / rx, dy = (y - cy) / ry;
                    mask[x * height + y] = (byte)(dx * dx + dy * dy <= 1 && rng.Next(50) != 0 ? 1 : 0);
                }
            masks.Add(mask);
        }
        return masks;
    }

    /// <summary>
    /// The masks packed as the paste packs them (bit b of word w is pixel 32w + b), int32 [masks + dead, words], with
    /// random words in the <paramref name="dead"/> rows after them and random bits past each row's last pixel.
    /// </summary>
    public static Tensor Bits(IReadOnlyList<byte[]> masks, int dead, int height, int width, int seed)
    {
        var rng = new Random(seed);
        int pixels = height * width, words = (int)MaskPaste.MaskPaste.BitWords(height, width), rows = masks.Count + dead;
        var bits = new int[rows * words];
        for (int i = 0; i < bits.Length; i++) bits[i] = rng.Next() ^ (rng.Next(2) << 31);
        for (int r = 0; r < masks.Count; r++)
        {
            var row = bits.AsSpan(r * words, words);
            // Whole words are rewritten; the last word keeps its random bits past the last pixel.
            for (int p = 0; p < pixels; p++)
            {
                int bit = 1 << (p % 32);
                row[p / 32] = masks[r][p] != 0 ? row[p / 32] | bit : row[p / 32] & ~bit;
            }
        }
        return Tensor.FromArray(bits, rows, words);
    }
}
