using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;
using NativeSeg.Models.Inference;

namespace NativeSeg.Tests.Emulation;

/// <summary>What the emulated runtime counts of its traffic with the host and its launches, and the bitmask decoding the device pipeline's copies feed.</summary>
public class DeviceTrafficTests
{
    [Fact]
    public void CopiesSynchronisationsAndLaunchesAreCounted()
    {
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        using var host = Tensor.FromArray(new float[] { 1, 2, 3 }, 3);
        var start = runtime.Traffic.Counts;
        using var onDevice = host.To(device);
        using var again = onDevice.To(device);
        using var empty = Tensor.Empty(device, DType.Float32, 0);
        using var emptyBack = empty.To(Device.Cpu);
        using var sum = Arithmetic.Add(onDevice, again);
        var back = sum.ToArray<float>();
        runtime.Synchronize();

        Assert.Equal([2f, 4f, 6f], back);
        // Device to device moves nothing across the bus, and an empty copy nothing at all; no copy is a launch, the add is one.
        Assert.Equal(new TrafficCounts(HostToDevice: 1, DeviceToHost: 1, Synchronizations: 2, Launches: 1, HostToDeviceBytes: 12, DeviceToHostBytes: 12),
            runtime.Traffic.Counts - start);
    }

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
