namespace NativeSeg.Engine.Cuda;

/// <summary>
/// A device's primary context, retained for the runtime's lifetime. The primary context is the one
/// cuBLAS and cuDNN (built on the CUDA runtime) use too, so all three share memory and streams.
/// Every thread that calls the driver must make it current first: <see cref="MakeCurrent"/> does
/// that once per thread, at the cost of one thread-static read afterwards.
/// </summary>
internal sealed unsafe class PrimaryContext : IDisposable
{
    [ThreadStatic] private static nint t_current;

    private readonly DriverApi _api;
    private readonly int _device;
    private bool _disposed;

    public PrimaryContext(DriverApi api, int ordinal)
    {
        _api = api;
        int device;
        api.Check(api.cuDeviceGet(&device, ordinal));
        _device = device;
        nint context;
        api.Check(api.cuDevicePrimaryCtxRetain(&context, device));
        Handle = context;
    }

    public nint Handle { get; }

    public void MakeCurrent()
    {
        if (t_current == Handle) return;
        ObjectDisposedException.ThrowIf(_disposed, this);
        _api.Check(_api.cuCtxSetCurrent(Handle));
        t_current = Handle;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (t_current == Handle)
        {
            _api.cuCtxSetCurrent(0);
            t_current = 0;
        }
        _api.Check(_api.cuDevicePrimaryCtxRelease(_device));
    }
}
