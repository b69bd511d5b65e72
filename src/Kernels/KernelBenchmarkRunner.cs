using System.Diagnostics;
using NativeSeg.Engine.Devices;

namespace NativeSeg.Kernels;

public sealed record KernelBenchmarkOptions
{
    public int Warmup { get; init; } = 2;

    /// <summary>Timed runs; fewer when <see cref="MaxSeconds"/> runs out first (never fewer than 3).</summary>
    public int Repeats { get; init; } = 10;

    public double MaxSeconds { get; init; } = 20;

    public int Copies { get; init; } = 2;
}

/// <summary>Times of one size: milliseconds per run, sorted, and the rates at the median.</summary>
public sealed record KernelBenchmarkResult(string Benchmark, string Label, string Device, int Threads, long Flops, long Bytes, IReadOnlyList<double> Milliseconds)
{
    public string FullName => $"{Benchmark}/{Label}";

    public double Median => Percentile(50);

    public double Min => Milliseconds[0];

    public double Max => Milliseconds[^1];

    public double P10 => Percentile(10);

    public double P90 => Percentile(90);

    /// <summary>
    /// CPU only: process CPU time (all threads) per run, sorted. On a shared, oversubscribed machine the
    /// wall clock mostly measures waiting for a core; CPU time still compares implementations.
    /// </summary>
    public IReadOnlyList<double>? CpuMilliseconds { get; init; }

    public double? CpuMedian => CpuMilliseconds is { Count: > 0 } cpu ? Percentile(cpu, 50) : null;

    public double GflopsPerSecond => Flops / (Median * 1e6);

    public double GigabytesPerSecond => Bytes / (Median * 1e6);

    /// <summary>Linear interpolation between the sorted samples.</summary>
    public double Percentile(double p) => Percentile(Milliseconds, p);

    private static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        double position = p / 100 * (sorted.Count - 1);
        int low = (int)Math.Floor(position), high = (int)Math.Ceiling(position);
        return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
    }
}

public static class KernelBenchmarkRunner
{
    public static KernelBenchmarkResult Measure(KernelBenchmarkSize size, Device device, KernelBenchmarkOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Copies, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Repeats, 1);
        using var benchmarkCase = size.Setup(device, options.Copies);
        int copy = 0;
        for (int i = 0; i < options.Warmup; i++) benchmarkCase.Run(copy++);
        device.Runtime?.Synchronize();

        var times = new List<double>(options.Repeats);
        var cpuTimes = new List<double>(options.Repeats);
        var budget = Stopwatch.StartNew();
        int minimum = Math.Min(3, options.Repeats);
        while (times.Count < options.Repeats && (times.Count < minimum || budget.Elapsed.TotalSeconds < options.MaxSeconds))
        {
            var cpuBefore = Environment.CpuUsage.TotalTime;
            times.Add(TimeOne(benchmarkCase, copy++, device));
            cpuTimes.Add((Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds);
        }
        times.Sort();
        cpuTimes.Sort();
        int threads = device.IsCpu ? Engine.Cpu.CpuThreads.Count : 0;
        return new KernelBenchmarkResult(size.Benchmark, size.Label, device.ToString(), threads, size.Flops, size.Bytes, times)
        {
            CpuMilliseconds = device.IsCpu ? cpuTimes : null,
        };
    }

    /// <summary>CPU: wall clock around the call. CUDA: events around the launches, so host overhead that overlaps the GPU is not counted.</summary>
    private static double TimeOne(BenchmarkCase benchmarkCase, int copy, Device device)
    {
        if (device.Runtime is { } gpu)
        {
            using var start = gpu.RecordEvent();
            benchmarkCase.Run(copy);
            using var end = gpu.RecordEvent();
            return end.ElapsedSince(start);
        }
        long t0 = Stopwatch.GetTimestamp();
        benchmarkCase.Run(copy);
        return Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
    }
}
