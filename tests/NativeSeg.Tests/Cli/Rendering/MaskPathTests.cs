using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Tests.Cli.Rendering;

public class MaskPathTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void PathHoldsExactlyTheMaskPixels(int seed)
    {
        // Blobs with holes, runs that wrap from one column into the next, and whole set columns.
        const int h = 17, w = 23;
        var random = new Random(seed);
        var mask = new byte[h * w];
        for (int i = 0; i < mask.Length; i++) mask[i] = (byte)(random.NextDouble() < 0.6 ? 1 : 0);
        for (int y = 0; y < h; y++) mask[y * w + 5] = mask[y * w + 6] = 1;
        for (int y = 0; y < h; y++) mask[y * w + 11] = 0;
        var rle = Rle.FromRowMajor(mask, h, w);

        using var path = MaskPath.Of(rle);

        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                Assert.True(path.Contains(x + 0.5f, y + 0.5f) == (mask[y * w + x] != 0), $"pixel ({x}, {y})");
    }

    [Fact]
    public void EmptyAndFullMasks()
    {
        using var empty = MaskPath.Of(Rle.FromRowMajor(new byte[12], 3, 4));
        using var full = MaskPath.Of(Rle.FromRowMajor(Enumerable.Repeat((byte)1, 12).ToArray(), 3, 4));

        Assert.True(empty.IsEmpty);
        Assert.Equal(new SkiaSharp.SKRect(0, 0, 4, 3), full.Bounds);
    }
}
