namespace NativeSeg.Engine.Devices;

/// <summary>Copies between host and device (each direction) and host waits on the device's stream, counted so far.</summary>
public readonly record struct TrafficCounts(long HostToDevice, long DeviceToHost, long Synchronizations)
{
    public static TrafficCounts operator -(TrafficCounts after, TrafficCounts before) =>
        new(after.HostToDevice - before.HostToDevice, after.DeviceToHost - before.DeviceToHost, after.Synchronizations - before.Synchronizations);

    public override string ToString() => $"{HostToDevice} host-to-device, {DeviceToHost} device-to-host, {Synchronizations} synchronisations";
}

/// <summary>
/// What a device runtime counts of its traffic with the host. A device-to-host copy waits for the stream and
/// counts as a synchronisation too, since that wait is what makes it expensive. Safe to update from any thread.
/// </summary>
public sealed class DeviceTraffic
{
    private long _hostToDevice, _deviceToHost, _synchronizations;

    public TrafficCounts Counts => new(Interlocked.Read(ref _hostToDevice), Interlocked.Read(ref _deviceToHost), Interlocked.Read(ref _synchronizations));

    public void HostToDevice() => Interlocked.Increment(ref _hostToDevice);

    public void DeviceToHost()
    {
        Interlocked.Increment(ref _deviceToHost);
        Interlocked.Increment(ref _synchronizations);
    }

    public void Synchronization() => Interlocked.Increment(ref _synchronizations);
}
