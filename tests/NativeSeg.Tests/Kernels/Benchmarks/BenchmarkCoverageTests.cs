using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;
using NativeSeg.Tests.Emulation;

namespace NativeSeg.Tests.Kernels.Benchmarks;

/// <summary>
/// `nativeseg bench kernels` must time every kernel: each benchmark's small sizes run once on an
/// emulated device of their own, and every entry point of every .cu source has to be launched by some
/// benchmark's timed run (set-up launches do not count, since they are not timed).
/// </summary>
public class BenchmarkCoverageTests
{
    [Fact]
    public void EveryEntryPointIsLaunchedByATimedBenchmarkRun()
    {
        using var runtime = new EmulatedRuntime();
        var device = Device.ForRuntime(runtime);
        var timed = new HashSet<(string Source, string Entry)>();
        foreach (var size in KernelBenchmarks.All.SelectMany(b => b.Sizes(BenchmarkPreset.Small)))
        {
            using var benchmarkCase = size.Setup(device, 1);
            var before = runtime.LaunchCounts;
            benchmarkCase.Run(0);
            foreach (var (kernel, count) in runtime.LaunchCounts)
                if (count > before.GetValueOrDefault(kernel)) timed.Add(kernel);
        }
        var missing = KernelCatalog.All
            .SelectMany(s => KernelCatalog.EntryPoints(s).Select(e => (Source: s.Name, Entry: e)))
            .Where(k => !timed.Contains(k))
            .Select(k => $"{k.Source}:{k.Entry}")
            .Order(StringComparer.Ordinal)
            .ToArray();
        Assert.True(missing.Length == 0, $"no kernel benchmark's timed run launches these kernels: {string.Join(", ", missing)}");
    }
}
