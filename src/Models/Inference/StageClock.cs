using System.Diagnostics;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;

namespace NativeSeg.Models.Inference;

/// <summary>
/// Wall time per stage of one inference, for `nativeseg bench model`. Each lap first waits for the device's
/// queued work, so on CUDA a stage is charged with its own kernels rather than with the next stage's first
/// copy back. Models take it as an optional argument: without one they never synchronise or read a clock.
/// While a <see cref="FlopCount"/> is open on the thread, each lap also gets the GEMM-shaped kernels' FLOPs since the
/// previous lap.
/// </summary>
public sealed class StageClock(Device device)
{
    private readonly List<(string Stage, double Milliseconds, long Flops)> _laps = [];
    private long _last = Stopwatch.GetTimestamp();
    private long _lastFlops;

    /// <summary>
    /// Stages in the order they first ended, with their FLOPs (0 without a <see cref="FlopCount"/>); a stage that ran
    /// more than once (per image) holds the sums.
    /// </summary>
    public IReadOnlyList<(string Stage, double Milliseconds, long Flops)> Laps => _laps;

    /// <summary>Starts a new inference: waits for the device and forgets earlier laps.</summary>
    public void Restart()
    {
        device.Runtime?.Synchronize();
        _laps.Clear();
        _lastFlops = FlopCount.Current?.Flops ?? 0;
        _last = Stopwatch.GetTimestamp();
    }

    /// <summary>Charges the time since the previous lap (or restart) to <paramref name="stage"/>.</summary>
    public void Lap(string stage)
    {
        device.Runtime?.Synchronize();
        long now = Stopwatch.GetTimestamp();
        double ms = Stopwatch.GetElapsedTime(_last, now).TotalMilliseconds;
        _last = now;
        long counted = FlopCount.Current?.Flops ?? 0, flops = counted - _lastFlops;
        _lastFlops = counted;
        int i = _laps.FindIndex(l => l.Stage == stage);
        if (i < 0) _laps.Add((stage, ms, flops));
        else _laps[i] = (stage, _laps[i].Milliseconds + ms, _laps[i].Flops + flops);
    }
}
