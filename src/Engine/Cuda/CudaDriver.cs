using NativeSeg.Engine.Native;

namespace NativeSeg.Engine.Cuda;

/// <summary>
/// The process-wide CUDA driver: libcuda.so.1 loaded and cuInit done once. A failed attempt is not
/// remembered, so a later call (after NATIVESEG_CUDA_LIB_PATH changed) probes again.
/// </summary>
internal static class CudaDriver
{
    private static readonly Lock Gate = new();
    private static DriverApi? _api;

    /// <summary>The initialised driver, or null with a one-line reason (missing library and where it looked, or cuInit's error).</summary>
    public static unsafe DriverApi? TryGet(out string reason)
    {
        lock (Gate)
        {
            reason = "";
            if (_api is not null) return _api;
            var api = DriverApi.TryLoad(out var probe);
            if (api is null)
            {
                reason = $"{probe.DescribeMissing()}; set {LibraryProbe.PathVariable} to the folder that holds it";
                return null;
            }
            int status = api.cuInit(0);
            if (status != DriverApi.Success)
            {
                var (name, description) = api.Describe(status);
                reason = $"cuInit failed: {name}: {description} (driver {probe.Path})";
                return null;
            }
            return _api = api;
        }
    }

    public static DriverApi Get() =>
        TryGet(out string reason) ?? throw new CudaUnavailableException(reason);

    public static unsafe int DeviceCount(DriverApi api)
    {
        int count;
        api.Check(api.cuDeviceGetCount(&count));
        return count;
    }
}
