namespace NativeSeg.Engine.Devices;

/// <summary>
/// Copies between host and device (each direction, with the bytes they moved), host waits on the device's stream and
/// kernel launches, counted so far. Launches are NativeSeg's own kernels; a cuBLAS or cuDNN call launches kernels the
/// library chooses and is not counted, since their number is the library's, not the pipeline's.
/// </summary>
public readonly record struct TrafficCounts(long HostToDevice, long DeviceToHost, long Synchronizations, long Launches, long HostToDeviceBytes, long DeviceToHostBytes)
{
    public static TrafficCounts operator -(TrafficCounts after, TrafficCounts before) =>
        new(after.HostToDevice - before.HostToDevice, after.DeviceToHost - before.DeviceToHost, after.Synchronizations - before.Synchronizations,
            after.Launches - before.Launches, after.HostToDeviceBytes - before.HostToDeviceBytes, after.DeviceToHostBytes - before.DeviceToHostBytes);

    public override string ToString() =>
        $"{HostToDevice} host-to-device ({HostToDeviceBytes} bytes), {DeviceToHost} device-to-host ({DeviceToHostBytes} bytes), {Synchronizations} synchronisations, {Launches} kernel launches";
}

/// <summary>
/// What a device runtime counts of its traffic with the host. A device-to-host copy waits for the stream and
/// counts as a synchronisation too, since that wait is what makes it expensive. Safe to update from any thread.
/// </summary>
public sealed class DeviceTraffic
{
    private long _hostToDevice, _deviceToHost, _synchronizations, _launches, _hostToDeviceBytes, _deviceToHostBytes;

    public TrafficCounts Counts => new(Interlocked.Read(ref _hostToDevice), Interlocked.Read(ref _deviceToHost), Interlocked.Read(ref _synchronizations),
        Interlocked.Read(ref _launches), Interlocked.Read(ref _hostToDeviceBytes), Interlocked.Read(ref _deviceToHostBytes));

    public void HostToDevice(long bytes)
    {
        Interlocked.Increment(ref _hostToDevice);
        Interlocked.Add(ref _hostToDeviceBytes, bytes);
    }

    public void DeviceToHost(long bytes)
    {
        Interlocked.Increment(ref _deviceToHost);
        Interlocked.Add(ref _deviceToHostBytes, bytes);
        Interlocked.Increment(ref _synchronizations);
    }

    public void Synchronization() => Interlocked.Increment(ref _synchronizations);

    public void Launch() => Interlocked.Increment(ref _launches);
}
