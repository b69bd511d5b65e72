using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Tests.Coco;

/// <summary>An RLE's column runs cover exactly its set pixels, runs that wrap into the next column included.</summary>
public class RleColumnRunsTests
{
    [Theory]
    [InlineData(7, 5, 0.5)]
    [InlineData(4, 9, 0.9)]
    [InlineData(1, 13, 0.3)]
    public void ColumnRunsCoverTheSetPixels(int height, int width, double density)
    {
        var rng = new Random(height * 31 + width);
        var columnMajor = new byte[height * width];
        for (int i = 0; i < columnMajor.Length; i++) columnMajor[i] = (byte)(rng.NextDouble() < density ? 1 : 0);
        var rle = Rle.FromColumnMajor(columnMajor, height, width);
        var drawn = new byte[height * width];
        int lastX = -1, lastY = -1;
        foreach (var (x, y0, y1) in rle.ColumnRuns())
        {
            Assert.True(y0 < y1 && y0 >= 0 && y1 <= height, $"run ({x}, {y0}..{y1}) in a mask {height} high");
            Assert.True(x > lastX || (x == lastX && y0 >= lastY), "runs out of scan order");
            for (int y = y0; y < y1; y++) drawn[x * height + y] = 1;
            (lastX, lastY) = (x, y1);
        }
        Assert.Equal(columnMajor, drawn);
        Assert.Contains(rle.ColumnRuns(), r => r.Y1 == height);
    }
}
