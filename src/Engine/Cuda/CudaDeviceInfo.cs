using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Cuda;

/// <summary>What the driver reports about one device.</summary>
public sealed record CudaDeviceInfo(int Ordinal, string Name, int Major, int Minor, long TotalMemory, int Multiprocessors, bool MemoryPools)
{
    private const int AttributeMultiprocessorCount = 16;
    private const int AttributeComputeCapabilityMajor = 75;
    private const int AttributeComputeCapabilityMinor = 76;
    private const int AttributeMemoryPoolsSupported = 115;

    /// <summary>The native architecture, as NVRTC names it: "sm_90".</summary>
    public string Architecture => $"sm_{Major}{Minor}";

    public override string ToString() =>
        $"cuda:{Ordinal} {Name} ({Architecture}, {TotalMemory / (1024.0 * 1024 * 1024):F1} GiB, {Multiprocessors} SMs)";

    /// <summary>Every device the driver sees; throws <see cref="CudaUnavailableException"/> when there is no usable driver.</summary>
    public static IReadOnlyList<CudaDeviceInfo> All()
    {
        var api = CudaDriver.Get();
        return Enumerable.Range(0, CudaDriver.DeviceCount(api)).Select(i => Query(api, i)).ToArray();
    }

    internal static unsafe CudaDeviceInfo Query(DriverApi api, int ordinal)
    {
        int device;
        api.Check(api.cuDeviceGet(&device, ordinal));
        byte* name = stackalloc byte[256];
        api.Check(api.cuDeviceGetName(name, 256, device));
        nuint memory;
        api.Check(api.cuDeviceTotalMem(&memory, device));
        return new CudaDeviceInfo(ordinal, Marshal.PtrToStringUTF8((nint)name) ?? "",
            Attribute(api, device, AttributeComputeCapabilityMajor), Attribute(api, device, AttributeComputeCapabilityMinor),
            (long)memory, Attribute(api, device, AttributeMultiprocessorCount), Attribute(api, device, AttributeMemoryPoolsSupported) != 0);
    }

    private static unsafe int Attribute(DriverApi api, int device, int attribute)
    {
        int value;
        api.Check(api.cuDeviceGetAttribute(&value, attribute, device));
        return value;
    }
}
