using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Elementwise;

namespace NativeSeg.Tests.Emulation;

/// <summary>What the emulated runtime counts of its traffic with the host and its launches.</summary>
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
}
