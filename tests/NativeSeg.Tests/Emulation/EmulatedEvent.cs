using System.Diagnostics;
using NativeSeg.Engine.Devices;

namespace NativeSeg.Tests.Emulation;

/// <summary>A host timestamp: emulated launches are synchronous, so the stream point is "now".</summary>
internal sealed class EmulatedEvent : IDeviceEvent
{
    private readonly long _timestamp = Stopwatch.GetTimestamp();

    public float ElapsedSince(IDeviceEvent start) =>
        start is EmulatedEvent e
            ? (float)Stopwatch.GetElapsedTime(e._timestamp, _timestamp).TotalMilliseconds
            : throw new ArgumentException($"cannot time an emulated event against {start.GetType().Name}");

    public void Dispose()
    {
    }
}
