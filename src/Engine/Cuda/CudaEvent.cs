using NativeSeg.Engine.Devices;

namespace NativeSeg.Engine.Cuda;

/// <summary>A timing event recorded on the runtime's stream.</summary>
internal sealed unsafe class CudaEvent : IDeviceEvent
{
    private readonly DriverApi _api;
    private readonly NativeHandle _event;

    public CudaEvent(DriverApi api, nint stream)
    {
        _api = api;
        nint raw;
        api.Check(api.cuEventCreate(&raw, 0));
        _event = new NativeHandle(raw, api.cuEventDestroy);
        api.Check(api.cuEventRecord(raw, stream));
    }

    public float ElapsedSince(IDeviceEvent start)
    {
        if (start is not CudaEvent begin) throw new ArgumentException($"event from another runtime ({start.GetType().Name})", nameof(start));
        _api.Check(_api.cuEventSynchronize(_event.Value));
        float ms;
        _api.Check(_api.cuEventElapsedTime(&ms, begin._event.Value, _event.Value));
        return ms;
    }

    public void Dispose() => _event.Dispose();
}
