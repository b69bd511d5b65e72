using System.Globalization;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Kernels.Convolution;

namespace NativeSeg.Tests.Models;

/// <summary>Pillow 9.4 and torchvision 0.14 outputs from tests/reference/make_preprocess_fixtures.py.</summary>
public class PreprocessFixtureTests
{
    /// <summary>The fixture script's image formula.</summary>
    internal static Image Pattern(int height, int width, int channels = 3)
    {
        var pixels = new byte[height * width * channels];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                for (int c = 0; c < channels; c++)
                    pixels[(y * width + x) * channels + c] = (byte)((3 * x * x + 7 * y + x * y + 85 * c + 5 * ((x ^ y) & 31)) & 255);
            }
        }
        return new Image(width, height, channels, pixels);
    }

    [Theory]
    [InlineData("up", 37, 53, 3)]
    [InlineData("down", 61, 90, 3)]
    [InlineData("horizontal_only", 40, 50, 3)]
    [InlineData("vertical_only", 40, 50, 3)]
    [InlineData("gray", 30, 40, 1)]
    [InlineData("same", 20, 30, 3)]
    [InlineData("extreme_down", 200, 300, 3)]
    public void PillowBilinearIsExact(string name, int height, int width, int channels)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("preprocess_pillow.safetensors"));
        using var expected = file.Load(name + ".y");
        var resized = PillowResize.Bilinear(Pattern(height, width, channels), expected.Shape[1], expected.Shape[0]);
        Assert.Equal(expected.Shape, new Shape(resized.Height, resized.Width, resized.Channels));
        Assert.Equal(expected.AsSpan<byte>().ToArray(), resized.Pixels);
    }

    [Theory]
    [InlineData("coco_up", 480, 640)]
    [InlineData("large_down", 1200, 1600)]
    public void PillowBilinearIsExactOnRealSizes(string name, int height, int width)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("preprocess_pillow.safetensors"));
        using var rows = file.Load(name + ".rows");
        using var sums = file.Load(name + ".row_sums");
        int outH = sums.Shape[0], outW = rows.Shape[1], rowBytes = outW * 3;
        var resized = PillowResize.Bilinear(Pattern(height, width), outW, outH);
        var expectedRows = rows.AsSpan<byte>();
        var expectedSums = sums.AsSpan<long>();
        for (int y = 0; y < outH; y++)
        {
            var row = resized.Pixels.AsSpan(y * rowBytes, rowBytes);
            long sum = 0;
            foreach (byte v in row) sum += v;
            Assert.True(expectedSums[y] == sum, $"row {y}: sum {sum}, Pillow {expectedSums[y]}");
            if (y % 25 == 0) Assert.True(row.SequenceEqual(expectedRows.Slice(y / 25 * rowBytes, rowBytes)), $"row {y} differs from Pillow");
        }
    }

    [Fact]
    public void TorchvisionSizesMatch()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("preprocess_pipeline.safetensors"));
        using var sizes = file.Load("tv_sizes");
        var s = sizes.AsSpan<int>();
        for (int i = 0; i < sizes.Shape[0]; i++)
        {
            var (h, w) = ResizeRules.Torchvision(s[4 * i], s[4 * i + 1], 800, 1333);
            Assert.Equal((s[4 * i + 2], s[4 * i + 3]), (h, w));
        }
    }

    [Theory]
    [InlineData("tv_up")]
    [InlineData("tv_down")]
    [InlineData("mrcnn")]
    public void PipelineMatches(string name)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("preprocess_pipeline.safetensors"));
        var meta = file.Metadata[name].Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        var config = (name == "mrcnn" ? PreprocessConfig.For(DetectionFlavour.MaskRcnnBenchmark) : PreprocessConfig.For(DetectionFlavour.Torchvision)) with { MinSize = meta[2], MaxSize = meta[3] };
        using var result = ImagePreprocessor.Run(Pattern(meta[0], meta[1]), config, Device.Cpu);
        using var expected = file.Load(name + ".x");
        if (file.Contains(name + ".size"))
        {
            using var size = file.Load(name + ".size");
            Assert.Equal(size.AsSpan<int>().ToArray(), new[] { result.Height, result.Width });
        }
        // torch 1.13's CPU bilinear weights differ from the index formula of F.interpolate's documentation (and of
        // our Resize kernel) by a few float32 ulps; measured 5e-6..7.4e-6 relative here. maskrcnn-benchmark's
        // path has no float resize and matches to rounding.
        ConvAssert.Close(expected, result.Input, name == "mrcnn" ? 1e-6 : 1e-5);
        Assert.Equal((meta[0], meta[1]), (result.OriginalHeight, result.OriginalWidth));
    }

    [Fact]
    public void Detectron2PipelineMatches()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("preprocess_pipeline.safetensors"));
        using var result = ImagePreprocessor.Run(Pattern(480, 640), PreprocessConfig.For(DetectionFlavour.Detectron2), Device.Cpu);
        Assert.Equal((800, 1067, 800, 1088), (result.Height, result.Width, result.PaddedHeight, result.PaddedWidth));
        using var rows = file.Load("d2_rows");
        var expected = rows.AsSpan<float>();
        var actual = result.Input.AsSpan<float>();
        int w = result.PaddedWidth, h = result.PaddedHeight;
        for (int c = 0; c < 3; c++)
        {
            for (int r = 0; r < rows.Shape[1]; r++)
            {
                var want = expected.Slice((c * rows.Shape[1] + r) * w, w);
                var got = actual.Slice((c * h + r * 100) * w, w);
                Assert.True(want.SequenceEqual(got), $"channel {c} row {r * 100} differs");
            }
        }
    }

    [Theory]
    [InlineData(480, 640, 800, 1067)]
    [InlineData(375, 500, 800, 1067)]
    [InlineData(640, 480, 1067, 800)]
    [InlineData(100, 1000, 133, 1333)]
    public void Detectron2SizeRoundsHalfUp(int h, int w, int outH, int outW) =>
        Assert.Equal((outH, outW), ResizeRules.Detectron2(h, w, 800, 1333));

    [Theory]
    [InlineData(480, 640, 800, 1066)]
    [InlineData(640, 480, 1066, 800)]
    [InlineData(800, 1000, 800, 1000)]
    // 1333·100/1000 = 133.3 → short side 133, long side int(133·1000/100) = 1330.
    [InlineData(100, 1000, 133, 1330)]
    public void MaskRcnnBenchmarkSizeTruncatesTheLongSide(int h, int w, int outH, int outW) =>
        Assert.Equal((outH, outW), ResizeRules.MaskRcnnBenchmark(h, w, 800, 1333));
}
