using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// Pillow's bilinear resize on the emulated device (the fixed-point kernels with Pillow's weights uploaded) gives the
/// CPU's bytes exactly, which the preprocessing fixture tests tie to Pillow itself.
/// </summary>
public class PillowResizeDeviceTests
{
    // Up and down on each axis, one axis kept, odd and prime sizes, a resize to a single pixel, a 4x shrink whose
    // filter spans 9 taps, and 1 and 3 channels.
    public static TheoryData<int, int, int, int, int> Sizes => new()
    {
        { 23, 17, 1, 45, 33 },
        { 50, 71, 3, 30, 42 },
        { 31, 44, 3, 31, 67 },
        { 97, 13, 1, 41, 13 },
        { 7, 5, 3, 1, 1 },
        { 64, 80, 3, 16, 20 },
        { 480, 640, 3, 61, 1067 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void TheDeviceResizeIsTheCpuResizeBitForBit(int height, int width, int channels, int outHeight, int outWidth)
    {
        var image = Pattern(height, width, channels);
        var expected = PillowResize.Bilinear(image, outWidth, outHeight);

        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var taps = new PillowTaps(device);
        using var host = Tensor.FromArray(image.Pixels, height, width, channels);
        using var pixels = host.To(device);
        using var resized = PillowResize.Bilinear(pixels, outHeight, outWidth, taps);

        Assert.Equal(new Shape(outHeight, outWidth, channels), resized.Shape);
        Assert.Equal(expected.Pixels, resized.ToArray<byte>());
    }

    [Fact]
    public void EachAxisSizeIsUploadedOnce()
    {
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var taps = new PillowTaps(device);
        using var host = Tensor.FromArray(Pattern(12, 16, 3).Pixels, 12, 16, 3);
        using var pixels = host.To(device);

        var before = runtime.Traffic.Counts;
        PillowResize.Bilinear(pixels, 20, 24, taps).Dispose();
        var first = runtime.Traffic.Counts - before;
        PillowResize.Bilinear(pixels, 20, 24, taps).Dispose();
        var again = runtime.Traffic.Counts - before - first;

        // Upscaling keeps 3 taps per output: start, count and 3 weights for each of 24 columns and 20 rows.
        Assert.Equal(2, first.HostToDevice);
        Assert.Equal((24 + 20) * (2 + 3) * sizeof(int), first.HostToDeviceBytes);
        Assert.Equal(0, again.HostToDevice);
        Assert.Equal(2, again.Launches);
    }

    [Fact]
    public void AnImageOfTheTargetSizeIsItself()
    {
        var image = Pattern(9, 11, 3);
        var same = PillowResize.Bilinear(image, 11, 9);
        Assert.Equal(image.Pixels, same.Pixels);
        Assert.NotSame(image.Pixels, same.Pixels);
    }

    [Fact]
    public void AnEmptyTargetIsRefusedWithItsSize()
    {
        var e = Assert.Throws<ArgumentException>(() => PillowResize.Bilinear(Pattern(4, 4, 3), 0, 5));
        Assert.Contains("0x5", e.Message);
    }

    private static Image Pattern(int height, int width, int channels)
    {
        var pixels = new byte[height * width * channels];
        new Random(height * 131 + width * 7 + channels).NextBytes(pixels);
        return new Image(width, height, channels, pixels);
    }
}
