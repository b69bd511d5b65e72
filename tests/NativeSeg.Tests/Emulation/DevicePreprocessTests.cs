using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// Preprocessing on a device: each image crosses once, as its 8-bit pixels (before: the padded float batch, four bytes
/// per value, in one copy; torchvision now uploads the image before its resize, so a large image shrunk to the network's
/// size costs its own bytes, 3 per pixel, still under the 12 per resized pixel of the floats unless shrunk over 2× a side), and the emulated device's batch is the CPU's bit for bit, for every flavour's order of
/// operations (torchvision resizes the normalised floats on the device; Pillow's 8-bit resize stays on the host).
/// </summary>
public class DevicePreprocessTests
{
    // A gray image taller than wide (upscaled), an RGB one wider than tall (downscaled), so the batch pads both ways,
    // and one already at the network's size (torchvision's resize is then the identity, and skipped).
    private static readonly Image[] Images = [Pattern(23, 17, 1), Pattern(50, 71, 3), Pattern(30, 44, 3)];

    public static TheoryData<string> Flavours => ["torchvision", "detectron2", "maskrcnn-benchmark"];

    [Theory]
    [MemberData(nameof(Flavours))]
    public void EachImageIsUploadedOnceAsBytesAndGivesTheCpuBatch(string flavour)
    {
        var config = Config(flavour);
        var (expected, geometries) = ImagePreprocessor.Batch(Images, config, Device.Cpu);
        using var _ = expected;
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);

        var before = runtime.Traffic.Counts;
        var (input, deviceGeometries) = ImagePreprocessor.Batch(Images, config, device);
        var traffic = runtime.Traffic.Counts - before;
        using (input)
        {
            // torchvision uploads the decoded image and resizes there; the others upload what Pillow's resize made.
            long bytes = config.Flavour.ResizesNormalisedImage
                ? Images.Sum(i => (long)i.Height * i.Width * 3)
                : geometries.Sum(g => (long)g.Height * g.Width * 3);
            // Launches are the preprocessing kernels, whose number differs by flavour; the copies are the point here.
            Assert.Equal(new TrafficCounts(HostToDevice: Images.Length, DeviceToHost: 0, Synchronizations: 0, Launches: 0, HostToDeviceBytes: bytes, DeviceToHostBytes: 0),
                traffic with { Launches = 0 });
            Assert.Equal(geometries, deviceGeometries);
            Assert.Equal(expected.Shape, input.Shape);
            Assert.Equal(expected.AsSpan<float>().ToArray(), input.ToArray<float>());
        }
    }

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
