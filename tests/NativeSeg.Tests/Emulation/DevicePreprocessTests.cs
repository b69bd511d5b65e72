using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Preprocessing;
using NativeSeg.Tests.Coco;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// Preprocessing on a device: a batch crosses in one copy, as the images' original 8-bit pixels (before: the padded
/// float batch, four bytes per value; then Pillow's resized image, for COCO's upscaled images 2.8× the original's
/// bytes), and the emulated device's batch is the CPU's bit for bit, for every flavour's order of operations
/// (torchvision resizes the normalised floats, the others resize the 8-bit image with Pillow's fixed-point weights,
/// which cross once per axis size and are kept in a <see cref="PillowTaps"/>).
/// </summary>
public class DevicePreprocessTests(ITestOutputHelper output)
{
    // A gray image taller than wide (upscaled), an RGB one wider than tall (downscaled), so the batch pads both ways,
    // and one already at the network's size (torchvision's resize is then the identity, and skipped).
    private static readonly Image[] Images = [Pattern(23, 17, 1), Pattern(50, 71, 3), Pattern(30, 44, 3)];

    public static TheoryData<string> Flavours => ["torchvision", "detectron2", "maskrcnn-benchmark"];

    [Theory]
    [MemberData(nameof(Flavours))]
    public void ABatchCrossesInOneCopyOfItsOriginalBytesAndGivesTheCpuBatch(string flavour)
    {
        var config = Config(flavour);
        var (expected, geometries) = ImagePreprocessor.Batch(Images, config, Device.Cpu);
        using var _ = expected;
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var taps = new PillowTaps(device);
        long originals = Images.Sum(i => (long)i.Height * i.Width * 3);

        var (first, weights) = Traffic(runtime, () => ImagePreprocessor.Batch(Images, config, device, taps));
        first.Input.Dispose();
        var (input, again) = Traffic(runtime, () => ImagePreprocessor.Batch(Images, config, device, taps));
        using (input.Input)
        {
            // The first batch also uploads the weights of each axis size Pillow's resize changes, once; the second
            // finds them on the device. Launches are the preprocessing kernels, whose number differs by flavour.
            List<(int In, int Out)> axes = config.Flavour.ResizesNormalisedImage ? [] : ResizedAxes(geometries);
            long weightBytes = axes.Sum(a => (long)PillowResize.Taps(a.In, a.Out).Length * sizeof(int));
            Assert.Equal(new TrafficCounts(1 + axes.Count, 0, 0, 0, originals + weightBytes, 0), weights with { Launches = 0 });
            Assert.Equal(new TrafficCounts(1, 0, 0, 0, originals, 0), again with { Launches = 0 });
            Assert.Equal(geometries, input.Geometries);
            Assert.Equal(expected.Shape, input.Input.Shape);
            Assert.Equal(expected.AsSpan<float>().ToArray(), input.Input.ToArray<float>());
        }
    }

    /// <summary>
    /// A real 640-wide COCO image at detectron2's 800/1333 test size, on a Pillow flavour: the device uploads the image
    /// (921,600 bytes for 640×480), where uploading Pillow's resized 800×1067 image cost 2,560,800, and gives the CPU's input.
    /// </summary>
    [Fact]
    public void ACocoImageCrossesAsItsOwnBytesNotTheUpscaledOnes()
    {
        string? file = SharedData.File("coco_mini_val2017/val2017/000000135561.jpg");
        if (file is null) return;
        var image = ImageFile.Read(file).ToRgb();
        var config = PreprocessConfig.For(DetectionFlavour.Detectron2);
        using var expected = ImagePreprocessor.Run(image, config, Device.Cpu);
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var taps = new PillowTaps(device);

        var (first, withWeights) = Traffic(runtime, () => ImagePreprocessor.Run(image, config, device, taps));
        first.Dispose();
        var (input, traffic) = Traffic(runtime, () => ImagePreprocessor.Run(image, config, device, taps));
        using (input)
        {
            long resizedBytes = (long)expected.Height * expected.Width * 3;
            output.WriteLine($"{file}: {image.Width}x{image.Height} resized to {expected.Width}x{expected.Height}; "
                + $"uploaded {traffic.HostToDeviceBytes} bytes in {traffic.HostToDevice} copy ({withWeights.HostToDeviceBytes} with the weights, first time), "
                + $"where the host resize uploaded {resizedBytes}");
            Assert.Equal((long)image.Height * image.Width * 3, traffic.HostToDeviceBytes);
            Assert.Equal(1, traffic.HostToDevice);
            Assert.Equal(expected.Input.ToArray<float>(), input.Input.ToArray<float>());
        }
    }

    /// <summary>What <paramref name="run"/> returned and the traffic it caused.</summary>
    private static (T Result, TrafficCounts Traffic) Traffic<T>(EmulatedRuntime runtime, Func<T> run)
    {
        var before = runtime.Traffic.Counts;
        var result = run();
        return (result, runtime.Traffic.Counts - before);
    }

    /// <summary>The distinct (input size, output size) pairs of the axes the images are resized along.</summary>
    private static List<(int In, int Out)> ResizedAxes(IEnumerable<ImageGeometry> geometries) =>
        geometries.SelectMany(g => new[] { (In: g.OriginalWidth, Out: g.Width), (In: g.OriginalHeight, Out: g.Height) })
            .Where(a => a.In != a.Out).Distinct().ToList();

    [Fact]
    public void AnEmptyBatchIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => ImagePreprocessor.Batch([], Config("torchvision"), Device.Cpu));
        Assert.Contains("at least one image", e.Message);
    }

    /// <summary>The flavour's pipeline at sizes that make the first image grow and the second shrink.</summary>
    private static PreprocessConfig Config(string flavour)
    {
        var f = flavour switch
        {
            "torchvision" => DetectionFlavour.Torchvision,
            "detectron2" => DetectionFlavour.Detectron2,
            _ => DetectionFlavour.MaskRcnnBenchmark,
        };
        return PreprocessConfig.For(f) with { MinSize = 30, MaxSize = 45, SizeDivisibility = 8 };
    }

    private static Image Pattern(int height, int width, int channels)
    {
        var pixels = new byte[height * width * channels];
        var rng = new Random(height * 31 + width);
        rng.NextBytes(pixels);
        return new Image(width, height, channels, pixels);
    }
}
