using NativeSeg.Engine.Devices;

namespace NativeSeg.Kernels;

/// <summary>Which sizes a benchmark run measures.</summary>
public enum BenchmarkPreset
{
    /// <summary>Seconds in all; for smoke tests and CI.</summary>
    Small,

    /// <summary>The sizes the paper's models run at (800×1088 inputs, FPN maps, RoI heads).</summary>
    Paper,

    /// <summary>Bigger than inference needs, to see where throughput saturates.</summary>
    Large,
}

/// <summary>
/// A benchmarked op: named sizes per preset, each of which can be set up on a device as a runnable
/// case. FLOP and byte counts come from the sizes alone so GFLOP/s and GB/s compare across devices
/// and with torch (bytes: each input read once, the output written once).
/// </summary>
public abstract class KernelBenchmark
{
    /// <summary>Op name, e.g. "conv2d"; the first part of every size's full name.</summary>
    public abstract string Name { get; }

    public abstract IReadOnlyList<KernelBenchmarkSize> Sizes(BenchmarkPreset preset);

    public override string ToString() => Name;
}

/// <summary>A benchmark whose sizes are values of <typeparamref name="TSize"/>.</summary>
public abstract class KernelBenchmark<TSize> : KernelBenchmark where TSize : notnull
{
    public sealed override IReadOnlyList<KernelBenchmarkSize> Sizes(BenchmarkPreset preset) =>
        SizesOf(preset).Select(s =>
        {
            var (flops, bytes) = Cost(s);
            return new KernelBenchmarkSize(Name, Label(s), flops, bytes, (device, copies) => Setup(device, s, copies));
        }).ToArray();

    protected abstract IEnumerable<TSize> SizesOf(BenchmarkPreset preset);

    /// <summary>Short unique label, e.g. "fpn-3x3-256 1x256x200x272"; the same label names the case in build/bench-torch.py.</summary>
    protected abstract string Label(TSize size);

    protected abstract (long Flops, long Bytes) Cost(TSize size);

    /// <summary>Allocates <paramref name="copies"/> sets of inputs on the device and returns the op over them.</summary>
    protected abstract BenchmarkCase Setup(Device device, TSize size, int copies);
}

/// <summary>One size of one benchmark, not yet set up.</summary>
public sealed class KernelBenchmarkSize(string benchmark, string label, long flops, long bytes, Func<Device, int, BenchmarkCase> setup)
{
    public string Benchmark { get; } = benchmark;

    public string Label { get; } = label;

    /// <summary>"benchmark/label", what --filter matches.</summary>
    public string FullName => $"{Benchmark}/{Label}";

    public long Flops { get; } = flops;

    public long Bytes { get; } = bytes;

    public BenchmarkCase Setup(Device device, int copies) => setup(device, copies);
}

/// <summary>
/// A set-up benchmark: <see cref="Run"/> runs the op once on input copy <c>copy % copies</c> (the
/// output is freed at once). Rotating copies keeps a small op from being timed on inputs the previous
/// run left in cache.
/// </summary>
public sealed class BenchmarkCase(int copies, Action<int> run, IEnumerable<IDisposable> resources) : IDisposable
{
    private readonly IDisposable[] _resources = resources.ToArray();

    public int Copies { get; } = copies;

    public void Run(int copy) => run(copy % Copies);

    public void Dispose()
    {
        foreach (var r in _resources) r.Dispose();
    }
}
