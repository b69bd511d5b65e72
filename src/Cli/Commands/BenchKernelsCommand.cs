using System.CommandLine;
using NativeSeg.Cli.Parsing;
using System.Globalization;
using System.Text.Json;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Kernels;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg bench kernels [--device cpu|cuda] [--filter NAME] [--sizes small|paper|large] [--json OUT] [--no-ceilings]`:
/// measures the device's ceilings (copy bandwidth, SGEMM rate), then times every registered kernel
/// benchmark (warm-up, then repeated runs over rotated input copies) and prints the median, p10/p90,
/// min/max, the rates at the median and those rates as fractions of the ceilings.
/// </summary>
internal static class BenchKernelsCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto" }.Device();
        var filter = new Option<string?>("--filter") { Description = "only sizes whose name (\"op/label\") contains this text" };
        var sizes = new Option<string>("--sizes") { Description = "small, paper or large", DefaultValueFactory = _ => "paper" };
        sizes.AcceptOnlyFromAmong("small", "paper", "large");
        var json = new Option<string?>("--json") { Description = "also write the results to this JSON file" }.OutputFile();
        var repeats = new Option<int>("--repeats") { Description = "timed runs per size", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var warmup = new Option<int>("--warmup") { Description = "untimed runs first", DefaultValueFactory = _ => 2 }.AtLeast(0);
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: NATIVESEG_THREADS or all cores)" }.AtLeast(1);
        var noCeilings = new Option<bool>("--no-ceilings") { Description = "skip measuring copy bandwidth and the SGEMM rate" };
        var command = new Command("kernels", "Time the kernels at preset sizes") { device, filter, sizes, json, repeats, warmup, threads, noCeilings };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            if (parseResult.GetValue(threads) is int n) CpuThreads.Count = n;
            var options = new KernelBenchmarkOptions { Repeats = parseResult.GetValue(repeats), Warmup = parseResult.GetValue(warmup) };
            var preset = Enum.Parse<BenchmarkPreset>(parseResult.GetValue(sizes)!, ignoreCase: true);
            return Run(DeviceSelector.Select(parseResult.GetValue(device)!, config.Error), preset, parseResult.GetValue(filter),
                options, parseResult.GetValue(json), !parseResult.GetValue(noCeilings), config.Output, config.Error);
        });
        return command;
    }

    private static int Run(Device device, BenchmarkPreset preset, string? filter, KernelBenchmarkOptions options, string? jsonPath, bool ceilings, TextWriter output, TextWriter error)
    {
        var selected = KernelBenchmarks.All
            .SelectMany(b => b.Sizes(preset))
            .Where(s => filter is null || s.FullName.Contains(filter, StringComparison.OrdinalIgnoreCase))
            .ToArray();
        if (selected.Length == 0)
        {
            error.WriteLine($"error: --filter '{filter}' matches no kernel benchmark size in the {preset.ToString().ToLowerInvariant()} sizes");
            return ExitCodes.Usage;
        }
        string threads = device.IsCpu ? $", {CpuThreads.Count} threads" : "";
        output.WriteLine($"kernel benchmarks on {device}{threads}, {preset.ToString().ToLowerInvariant()} sizes, median of {options.Repeats} runs after {options.Warmup} warm-up");
        var copy = ceilings ? KernelBenchmarkRunner.Measure(DeviceCeilings.Copy.Sizes(preset)[0], device, options) : null;
        var gemm = ceilings ? KernelBenchmarkRunner.Measure(DeviceCeilings.Gemm.Sizes(preset)[0], device, options) : null;
        int width = Math.Max(4, selected.Max(s => s.FullName.Length));
        if (copy is not null && gemm is not null)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ceilings: {copy.FullName} {copy.GigabytesPerSecond:0.0} GB/s (read + write, {copy.Median:0.000} ms), {gemm.FullName} {gemm.GflopsPerSecond:0.0} GFLOP/s ({gemm.Median:0.000} ms)"));
        }
        output.WriteLine($"{"case".PadRight(width)}  {"median ms",10}  {"p10",9}  {"p90",9}  {"min",9}  {"max",9}  {"GFLOP/s",8}  {"GB/s",7}  {"%sgemm",6}  {"%copy",6}{(device.IsCpu ? "  cpu ms" : "")}");
        var results = new List<KernelBenchmarkResult>();
        foreach (var size in selected)
        {
            var r = KernelBenchmarkRunner.Measure(size, device, options);
            results.Add(r);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.FullName.PadRight(width)}  {r.Median,10:0.000}  {r.P10,9:0.000}  {r.P90,9:0.000}  {r.Min,9:0.000}  {r.Max,9:0.000}  {r.GflopsPerSecond,8:0.0}  {r.GigabytesPerSecond,7:0.0}  {Percent(r.GflopsPerSecond, gemm?.GflopsPerSecond),6}  {Percent(r.GigabytesPerSecond, copy?.GigabytesPerSecond),6}{(r.CpuMedian is double cpu ? $"  {cpu,9:0.000}" : "")}"));
        }
        if (jsonPath is not null) WriteJson(jsonPath, device, preset, results, copy, gemm);
        return ExitCodes.Ok;
    }

    private static string Percent(double rate, double? ceiling) =>
        ceiling is > 0 ? (100 * rate / ceiling.Value).ToString("0.0", CultureInfo.InvariantCulture) : "-";

    private static void WriteJson(string path, Device device, BenchmarkPreset preset, IReadOnlyList<KernelBenchmarkResult> results,
        KernelBenchmarkResult? copy, KernelBenchmarkResult? gemm)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("device", device.ToString());
        if (device.IsCpu) json.WriteNumber("threads", CpuThreads.Count);
        json.WriteString("sizes", preset.ToString().ToLowerInvariant());
        if (copy is not null && gemm is not null)
        {
            json.WriteStartObject("ceilings");
            json.WriteString("copy_name", copy.FullName);
            json.WriteNumber("copy_gbytes_per_s", copy.GigabytesPerSecond);
            json.WriteNumber("copy_median_ms", copy.Median);
            if (copy.CpuMedian is double copyCpu) json.WriteNumber("copy_cpu_median_ms", copyCpu);
            json.WriteString("sgemm_name", gemm.FullName);
            json.WriteNumber("sgemm_gflops_per_s", gemm.GflopsPerSecond);
            json.WriteNumber("sgemm_median_ms", gemm.Median);
            if (gemm.CpuMedian is double gemmCpu) json.WriteNumber("sgemm_cpu_median_ms", gemmCpu);
            json.WriteEndObject();
        }
        json.WriteStartArray("results");
        foreach (var r in results)
        {
            json.WriteStartObject();
            json.WriteString("name", r.FullName);
            json.WriteString("op", r.Benchmark);
            json.WriteString("label", r.Label);
            json.WriteNumber("runs", r.Milliseconds.Count);
            json.WriteNumber("median_ms", r.Median);
            json.WriteNumber("p10_ms", r.P10);
            json.WriteNumber("p90_ms", r.P90);
            json.WriteNumber("min_ms", r.Min);
            json.WriteNumber("max_ms", r.Max);
            if (r.CpuMedian is double cpu) json.WriteNumber("cpu_median_ms", cpu);
            json.WriteNumber("flops", r.Flops);
            json.WriteNumber("bytes", r.Bytes);
            json.WriteNumber("gflops_per_s", r.GflopsPerSecond);
            json.WriteNumber("gbytes_per_s", r.GigabytesPerSecond);
            if (copy is not null && gemm is not null)
            {
                json.WriteNumber("fraction_of_sgemm", r.GflopsPerSecond / gemm.GflopsPerSecond);
                json.WriteNumber("fraction_of_copy", r.GigabytesPerSecond / copy.GigabytesPerSecond);
            }
            json.WriteStartArray("samples_ms");
            foreach (double t in r.Milliseconds) json.WriteNumberValue(t);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }
}
