using System.Diagnostics;
using System.Text;
using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Images;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Formats;

public class ImageTests(ITestOutputHelper output)
{
    private const string CocoImages = "/work/shared/data/coco_mini_val2017/val2017";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void PngRoundTripIsExact(int channels)
    {
        using var dir = new TempFolder();
        var rng = new Random(channels);
        var pixels = new byte[37 * 23 * channels];
        rng.NextBytes(pixels);
        var image = new Image(37, 23, channels, pixels);
        string path = dir.File("round.png");
        Png.Write(path, image);
        var back = ImageFile.Read(path);
        Assert.Equal((37, 23, channels), (back.Width, back.Height, back.Channels));
        Assert.Equal(pixels, back.Pixels);
    }

    [Fact]
    public void PalettePngMatchesPilConversion()
    {
        var palette = ImageFile.Read(FixturePaths.Fixture("palette.png"));
        var expected = ImageFile.Read(FixturePaths.Fixture("palette_expected.png"));
        Assert.Equal(3, palette.Channels);
        Assert.Equal(expected.Pixels, palette.Pixels);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void ExifOrientationIsAppliedLikeDetectron2(int orientation)
    {
        string jpeg = FixturePaths.Fixture($"exif_o{orientation}.jpg");
        Assert.Equal(orientation, ExifOrientation.Read(File.ReadAllBytes(jpeg)));
        var decoded = ImageFile.Read(jpeg);
        var expected = ImageFile.Read(FixturePaths.Fixture($"exif_o{orientation}_expected.png"));
        Assert.Equal((expected.Width, expected.Height, 3), (decoded.Width, decoded.Height, decoded.Channels));
        Assert.Equal(expected.Pixels, decoded.Pixels);
    }

    [Fact]
    public void ExifReaderHandlesBigEndianAndIgnoresBrokenExif()
    {
        byte[] bigEndian = [.. "MM"u8, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0];
        Assert.Equal(6, ExifOrientation.Read(WithApp1([.. "Exif\0\0"u8, .. bigEndian])));
        // An IFD whose entry count runs past the segment, and one pointing outside it.
        byte[] overlong = [.. "II"u8, 42, 0, 8, 0, 0, 0, 200, 0, 0x12, 0x01, 3, 0];
        Assert.Equal(1, ExifOrientation.Read(WithApp1([.. "Exif\0\0"u8, .. overlong])));
        byte[] farOffset = [.. "II"u8, 42, 0, 0xFF, 0xFF, 0, 0];
        Assert.Equal(1, ExifOrientation.Read(WithApp1([.. "Exif\0\0"u8, .. farOffset])));
        Assert.Equal(1, ExifOrientation.Read([0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF]));
    }

    [Fact]
    public void JpegDecodeEqualsDjpeg()
    {
        var files = new List<string> { FixturePaths.Fixture("subsampled.jpg"), FixturePaths.Fixture("gray.jpg"), FixturePaths.Fixture("exif_o1.jpg") };
        if (Directory.Exists(CocoImages)) files.AddRange(Directory.GetFiles(CocoImages, "*.jpg").Order().Take(3));
        else output.WriteLine($"{CocoImages} absent: comparing the committed fixtures only");
        if (!File.Exists("/usr/bin/djpeg"))
        {
            output.WriteLine("djpeg not installed (Debian libjpeg-turbo-progs): skipped");
            return;
        }
        foreach (string file in files)
        {
            var reference = ReadNetpbm(RunDjpeg(file));
            var expected = ExifOrientation.Apply(reference, ExifOrientation.Read(File.ReadAllBytes(file)));
            var decoded = ImageFile.Read(file);
            Assert.Equal((expected.Width, expected.Height, expected.Channels), (decoded.Width, decoded.Height, decoded.Channels));
            Assert.True(expected.Pixels.AsSpan().SequenceEqual(decoded.Pixels), $"{file}: pixels differ from djpeg");
        }
    }

    /// <summary>A smooth gradient: JPEG's DCT keeps it nearly exact, so a large error means a wrong layout or colour path.</summary>
    private static Image Gradient(int channels, int width = 64, int height = 48)
    {
        // Stays below 256 up to 64x48 with four channels.
        var pixels = new byte[width * height * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    pixels[(y * width + x) * channels + c] = (byte)(20 + x * 2 + y + c * 30);
        return new Image(width, height, channels, pixels);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void JpegEncodeRoundTripStaysClose(int channels)
    {
        using var dir = new TempFolder();
        var image = Gradient(channels);
        string path = dir.File("round.jpg");
        Jpeg.Write(path, image, 95);
        var back = ImageFile.Read(path);
        Assert.Equal((image.Width, image.Height, channels), (back.Width, back.Height, back.Channels));
        double error = image.Pixels.Zip(back.Pixels, (a, b) => Math.Abs(a - b)).Average();
        output.WriteLine($"{channels} channels: mean absolute error {error:F3}");
        Assert.True(error < 2, $"mean absolute error {error:F3} at quality 95");
        Assert.Equal(File.ReadAllBytes(path), Jpeg.Encode(image, 95));
    }

    [Fact]
    public void JpegEncodeDecodesLikeDjpeg()
    {
        if (!File.Exists("/usr/bin/djpeg"))
        {
            output.WriteLine("djpeg not installed (Debian libjpeg-turbo-progs): skipped");
            return;
        }
        using var dir = new TempFolder();
        foreach (int channels in new[] { 1, 3 })
        {
            string path = dir.File($"ours{channels}.jpg");
            Jpeg.Write(path, Gradient(channels, 45, 29), 80);
            var expected = ReadNetpbm(RunDjpeg(path));
            var decoded = ImageFile.Read(path);
            Assert.Equal((expected.Width, expected.Height, expected.Channels), (decoded.Width, decoded.Height, decoded.Channels));
            Assert.True(expected.Pixels.AsSpan().SequenceEqual(decoded.Pixels), $"{channels} channels: pixels differ from djpeg");
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(101)]
    public void JpegEncodeRefusesBadQualityAndAlpha(int quality)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Jpeg.Encode(Gradient(3), quality));
        Assert.Contains("between 1 and 100", error.Message);
        Assert.Contains("no alpha", Assert.Throws<ArgumentException>(() => Jpeg.Encode(Gradient(4))).Message);
    }

    [Fact]
    public void CorruptTruncatedAndEmptyInputsAreErrorsNamingTheFile()
    {
        using var dir = new TempFolder();
        byte[] jpeg = File.ReadAllBytes(FixturePaths.Fixture("subsampled.jpg"));
        byte[] png = File.ReadAllBytes(FixturePaths.Fixture("palette_expected.png"));
        var rng = new Random(5);
        var garbage = new byte[300];
        rng.NextBytes(garbage);
        byte[] corruptPng = (byte[])png.Clone();
        corruptPng[png.Length / 2] ^= 0x55;
        var cases = new Dictionary<string, byte[]>
        {
            ["empty.jpg"] = [],
            ["half.jpg"] = jpeg[..(jpeg.Length / 2)],
            ["header-only.jpg"] = jpeg[..4],
            ["scan-cut.jpg"] = jpeg[..(jpeg.Length - 40)],
            ["signature.jpg"] = [0xFF, 0xD8, 0xFF, .. garbage],
            ["half.png"] = png[..(png.Length / 2)],
            ["signature.png"] = [.. png[..8], .. garbage],
            ["crc.png"] = corruptPng,
            ["random.bin"] = garbage,
        };
        foreach (var (name, bytes) in cases)
        {
            string path = dir.File(name);
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<FileFormatException>(() => ImageFile.Read(path));
            Assert.StartsWith(path + ":", e.Message);
            output.WriteLine(e.Message);
        }
    }

    [Fact]
    public void DimensionLimitsAreCheckedFromTheHeader()
    {
        using var dir = new TempFolder();
        // Rewrite the JPEG frame header to claim 60000x60000 pixels: refused before any pixel buffer exists.
        byte[] jpeg = File.ReadAllBytes(FixturePaths.Fixture("subsampled.jpg"));
        int sof = FindMarker(jpeg, 0xC0);
        jpeg[sof + 5] = 0xEA; jpeg[sof + 6] = 0x60; jpeg[sof + 7] = 0xEA; jpeg[sof + 8] = 0x60;
        string huge = dir.File("huge.jpg");
        File.WriteAllBytes(huge, jpeg);
        var e = Assert.Throws<FileFormatException>(() => ImageFile.Read(huge));
        Assert.Contains("60000x60000", e.Message);

        string png = FixturePaths.Fixture("palette_expected.png");
        Assert.Contains("per side", Assert.Throws<FileFormatException>(() => ImageFile.Read(png, new ImageLimits(MaxSide: 5))).Message);
        Assert.Contains("pixels", Assert.Throws<FileFormatException>(() => ImageFile.Read(png, new ImageLimits(MaxPixels: 20))).Message);
    }

    [Fact]
    public void AFailedPngWriteLeavesNothingBehind()
    {
        using var dir = new TempFolder();
        string target = dir.File("taken.png");
        Directory.CreateDirectory(target);
        Assert.ThrowsAny<IOException>(() => Png.Write(target, new Image(2, 2, 1, new byte[4])));
        Assert.Equal([target], Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void ToRgbReplicatesGrayAndDropsAlpha()
    {
        var gray = new Image(2, 1, 1, [10, 20]).ToRgb();
        Assert.Equal([10, 10, 10, 20, 20, 20], gray.Pixels);
        var rgba = new Image(1, 1, 4, [1, 2, 3, 4]).ToRgb();
        Assert.Equal([1, 2, 3], rgba.Pixels);
        using var t = rgba.ToTensor();
        Assert.Equal(new NativeSeg.Engine.Tensors.Shape(1, 1, 3), t.Shape);
    }

    private static byte[] WithApp1(byte[] body)
    {
        int length = body.Length + 2;
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. body, 0xFF, 0xD9];
    }

    private static int FindMarker(byte[] jpeg, byte marker)
    {
        for (int i = 2; i + 1 < jpeg.Length; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] == marker) return i;
        }
        throw new InvalidOperationException($"marker FF{marker:X2} not found");
    }

    private static byte[] RunDjpeg(string file)
    {
        var start = new ProcessStartInfo("/usr/bin/djpeg", ["-ppm", file]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        using var buffer = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(buffer);
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"djpeg failed on {file}: {process.StandardError.ReadToEnd()}");
        return buffer.ToArray();
    }

    /// <summary>Parses the binary PPM (P6) or PGM (P5) djpeg writes: magic, width, height, maxval, one space, pixels.</summary>
    private static Image ReadNetpbm(byte[] data)
    {
        int pos = 0;
        string Token()
        {
            while (char.IsWhiteSpace((char)data[pos])) pos++;
            int start = pos;
            while (!char.IsWhiteSpace((char)data[pos])) pos++;
            return Encoding.ASCII.GetString(data, start, pos - start);
        }
        string magic = Token();
        int width = int.Parse(Token()), height = int.Parse(Token());
        Assert.Equal("255", Token());
        pos++;
        int channels = magic == "P6" ? 3 : 1;
        return new Image(width, height, channels, data[pos..(pos + width * height * channels)]);
    }
}
