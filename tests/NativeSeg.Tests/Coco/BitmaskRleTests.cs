using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Tests.Coco;

/// <summary>COCO RLE of column-major bitmasks as the device paste packs them (the CPU twin of the device RLE).</summary>
public class BitmaskRleTests
{
    [Theory]
    [InlineData(7, 5)]
    [InlineData(32, 3)]
    [InlineData(13, 41)]
    public void ColumnMajorBitsDecodeToTheRleOfTheirBytes(int height, int width)
    {
        var rng = new Random(height * width);
        var bytes = new byte[height * width];
        // Long runs (whole words of one value) and short ones.
        for (int p = 0; p < bytes.Length; p++) bytes[p] = (byte)(p / 40 % 3 == 0 ? 1 : p / 40 % 3 == 1 ? 0 : rng.Next(2));
        var words = new int[(bytes.Length + 31) / 32];
        for (int p = 0; p < bytes.Length; p++) words[p / 32] |= bytes[p] << (p % 32);

        var decoded = BitmaskRle.FromColumnMajorBits(words, height, width);

        Assert.Equal(Rle.FromColumnMajor(bytes, height, width).Counts.ToArray(), decoded.Counts.ToArray());
    }

    [Fact]
    public void BitsOfTheWrongLengthAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => BitmaskRle.FromColumnMajorBits(new int[2], 10, 10));
        Assert.Contains("10x10", e.Message);
    }
}
