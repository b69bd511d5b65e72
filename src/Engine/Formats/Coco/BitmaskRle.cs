namespace NativeSeg.Engine.Formats.Coco;

/// <summary>COCO RLE from a whole-image bitmask packed column-major, 32 pixels per word, as the device paste leaves it.</summary>
public static class BitmaskRle
{
    /// <param name="words">Bit b of word w is pixel 32w + b of the column-major order (x·height + y).</param>
    public static Rle FromColumnMajorBits(ReadOnlySpan<int> words, int height, int width)
    {
        long pixels = (long)height * width;
        if (words.Length != (pixels + 31) / 32)
            throw new ArgumentException($"{words.Length} words do not hold a {height}x{width} bitmask ({(pixels + 31) / 32} words)");
        var counts = new List<uint>();
        bool on = false;
        uint run = 0;
        for (long p = 0; p < pixels;)
        {
            uint word = (uint)words[(int)(p / 32)];
            int bits = (int)Math.Min(32, pixels - p);
            // Whole words of the current state are most of a mask: extend the run without looking at bits.
            if (bits == 32 && word == (on ? uint.MaxValue : 0u))
            {
                run += 32;
                p += 32;
                continue;
            }
            for (int b = 0; b < bits; b++)
            {
                if ((((word >> b) & 1u) != 0) != on)
                {
                    counts.Add(run);
                    run = 0;
                    on = !on;
                }
                run++;
            }
            p += bits;
        }
        counts.Add(run);
        return new Rle(height, width, [.. counts]);
    }
}
