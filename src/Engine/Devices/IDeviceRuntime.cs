namespace NativeSeg.Engine.Devices;

/// <summary>
/// What the ops need from a CUDA device: memory, copies, kernels and launches on one in-order stream.
/// Implemented by the real driver (<c>Cuda.CudaRuntime</c>) and by the tests' host emulation, so the
/// same launch code runs in both.
/// </summary>
public interface IDeviceRuntime : IDisposable
{
    /// <summary>Display name, e.g. "cuda:0 (NVIDIA H100 80GB HBM3)".</summary>
    string Name { get; }

    /// <summary>NVRTC architecture, e.g. "sm_90".</summary>
    string Architecture { get; }

    Memory.IMemoryPool Memory { get; }

    /// <summary>
    /// Host↔device copies, synchronisations and kernel launches so far; a zero-byte copy moves nothing and is not counted.
    /// </summary>
    DeviceTraffic Traffic { get; }

    void CopyHostToDevice(nint device, nint host, long bytes);

    void CopyDeviceToHost(nint host, nint device, long bytes);

    void CopyDeviceToDevice(nint destination, nint source, long bytes);

    void Memset(nint device, byte value, long bytes);

    /// <summary>Compiles (or takes from cache) the source's module and returns one of its entry points.</summary>
    IKernel GetKernel(KernelSource source, string entryPoint);

    /// <summary>
    /// Launches a kernel. <paramref name="arguments"/> points to <paramref name="count"/> pointers, each to
    /// one argument value, as <c>cuLaunchKernel</c> takes them; callers build it with stackalloc so a
    /// launch allocates nothing.
    /// </summary>
    unsafe void Launch(IKernel kernel, Dim3 grid, Dim3 block, int sharedBytes, void** arguments, int count);

    /// <summary>Blocks until all queued work has finished; rethrows asynchronous errors.</summary>
    void Synchronize();

    IDeviceEvent RecordEvent();

    /// <summary>Device GEMM; always present.</summary>
    IDeviceBlas Blas { get; }

    /// <summary>Vendor convolution (cuDNN) when loadable; ops fall back to their own kernels otherwise.</summary>
    IDeviceConvolution? Convolution { get; }
}

/// <summary>A point in the device's stream, used for timing.</summary>
public interface IDeviceEvent : IDisposable
{
    /// <summary>Milliseconds from <paramref name="start"/> to this event; waits for this event.</summary>
    float ElapsedSince(IDeviceEvent start);
}

/// <summary>A compiled kernel entry point.</summary>
public interface IKernel
{
    string Name { get; }
}

public readonly record struct Dim3(uint X, uint Y = 1, uint Z = 1)
{
    /// <summary>Blocks needed to cover <paramref name="count"/> items with <paramref name="perBlock"/> each.</summary>
    public static Dim3 Cover(long count, int perBlock) =>
        new((uint)Math.Max(1, Math.Min((count + perBlock - 1) / perBlock, int.MaxValue)));
}
