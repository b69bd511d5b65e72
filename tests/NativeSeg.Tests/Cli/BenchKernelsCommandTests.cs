using System.Text.Json;
using NativeSeg.Cli;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;
using NativeSeg.Tests.Emulation;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

public class BenchKernelsCommandTests
{
    [Fact]
    public void WritesTableAndJsonWithOrderedStatistics()
    {
        using var folder = new TempFolder();
        string json = folder.File("bench.json");
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(
            ["bench", "kernels", "--device", "cpu", "--sizes", "small", "--filter", "conv2d/1x1", "--repeats", "4", "--warmup", "1", "--json", json],
            output, error);
        Assert.True(code == 0, error.ToString());
        Assert.Contains("conv2d/1x1-64 2x64x17x25", output.ToString());
        Assert.DoesNotContain("relu/", output.ToString());

        using var doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("cpu", doc.RootElement.GetProperty("device").GetString());
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(1, results.GetArrayLength());
        var r = results[0];
        Assert.Equal("conv2d/1x1-64 2x64x17x25", r.GetProperty("name").GetString());
        Assert.Equal(4, r.GetProperty("samples_ms").GetArrayLength());
        double min = r.GetProperty("min_ms").GetDouble(), p10 = r.GetProperty("p10_ms").GetDouble();
        double median = r.GetProperty("median_ms").GetDouble(), p90 = r.GetProperty("p90_ms").GetDouble(), max = r.GetProperty("max_ms").GetDouble();
        Assert.True(min > 0 && min <= p10 && p10 <= median && median <= p90 && p90 <= max, $"{min} {p10} {median} {p90} {max}");
        // 2·N·K·P·Q·C for the 1×1 conv, from the sizes alone.
        Assert.Equal(2L * 2 * 48 * 17 * 25 * 64, r.GetProperty("flops").GetInt64());
        Assert.Equal(r.GetProperty("flops").GetInt64() / (median * 1e6), r.GetProperty("gflops_per_s").GetDouble(), 6);
    }

    [Fact]
    public void FilterMatchingNothingIsAUsageError()
    {
        var error = new StringWriter();
        int code = Program.Run(["bench", "kernels", "--device", "cpu", "--sizes", "small", "--filter", "no-such-op"], new StringWriter(), error);
        Assert.Equal(2, code);
        Assert.Contains("--filter 'no-such-op' matches no kernel benchmark size", error.ToString());
    }

    [Fact]
    public void EverySizeHasAUniqueNameAndTheSmallOnesRun()
    {
        foreach (var preset in Enum.GetValues<BenchmarkPreset>())
        {
            var names = KernelBenchmarks.All.SelectMany(b => b.Sizes(preset)).Select(s => s.FullName).ToArray();
            Assert.Equal(names.Length, names.Distinct().Count());
        }
        Assert.Contains(KernelBenchmarks.All.SelectMany(b => b.Sizes(BenchmarkPreset.Paper)), s => s.FullName == "conv2d/fpn-3x3-256 1x256x200x272");
        foreach (var size in KernelBenchmarks.All.SelectMany(b => b.Sizes(BenchmarkPreset.Small)))
        {
            var r = KernelBenchmarkRunner.Measure(size, Device.Cpu, new KernelBenchmarkOptions { Warmup = 0, Repeats = 1, Copies = 2 });
            // Pure data movement (concat, gather, nearest resize) has no arithmetic to count.
            Assert.True(r.Flops >= 0 && r.Bytes > 0 && r.Median > 0, size.FullName);
        }
    }

    /// <summary>On a CUDA device the runner times with events; the emulated device runs that path on the host.</summary>
    [Fact]
    public void CudaTimingUsesDeviceEvents()
    {
        var size = KernelBenchmarks.All.SelectMany(b => b.Sizes(BenchmarkPreset.Small)).First(s => s.FullName == "relu/3x5x7x11");
        var r = KernelBenchmarkRunner.Measure(size, EmulatedDevice.Device, new KernelBenchmarkOptions { Warmup = 1, Repeats = 3 });
        Assert.Equal(3, r.Milliseconds.Count);
        Assert.Equal(0, r.Threads);
        Assert.Equal(EmulatedDevice.Device.ToString(), r.Device);
        Assert.True(r.Min >= 0 && r.Max >= r.Min);
    }

    [Fact]
    public void PercentilesInterpolateBetweenSortedSamples()
    {
        var r = new KernelBenchmarkResult("op", "x", "cpu", 1, 1000, 1000, [1.0, 2.0, 3.0, 4.0, 5.0]);
        Assert.Equal(3.0, r.Median);
        Assert.Equal(1.4, r.P10, 9);
        Assert.Equal(4.6, r.P90, 9);
        Assert.Equal(1000 / 3e6, r.GflopsPerSecond, 12);
    }
}
