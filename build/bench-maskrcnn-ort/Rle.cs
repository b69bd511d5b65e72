namespace BenchMaskRcnnOrt;

/// <summary>COCO's uncompressed RLE of a mask thresholded at 0.5: run lengths in column-major order, starting with zeros.</summary>
internal static class Rle
{
    public static Segmentation Encode(ReadOnlySpan<float> probabilities, int h, int w)
    {
        var counts = new List<int>();
        bool current = false;
        int run = 0;
        for (int x = 0; x < w; x++)
        {
            for (int y = 0; y < h; y++)
            {
                bool on = probabilities[y * w + x] > 0.5f;
                if (on != current)
                {
                    counts.Add(run);
                    run = 0;
                    current = on;
                }
                run++;
            }
        }
        counts.Add(run);
        return new Segmentation([h, w], counts);
    }
}
