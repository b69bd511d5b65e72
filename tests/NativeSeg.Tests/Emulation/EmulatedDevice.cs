using NativeSeg.Engine.Devices;

namespace NativeSeg.Tests.Emulation;

/// <summary>
/// The one emulated device of a test run: every test shares it so each kernel source is compiled and
/// loaded once, and the coverage test sees every launch.
/// </summary>
public static class EmulatedDevice
{
    private static readonly Lazy<EmulatedRuntime> SharedRuntime = new(() => new EmulatedRuntime());
    private static readonly Lazy<Device> SharedDevice = new(() => Device.ForRuntime(SharedRuntime.Value));

    public static EmulatedRuntime Runtime => SharedRuntime.Value;

    public static Device Device => SharedDevice.Value;
}
