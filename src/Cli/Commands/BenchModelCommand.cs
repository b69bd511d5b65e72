using System.CommandLine;
using NativeSeg.Cli.Parsing;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Kernels;
using NativeSeg.Layers;
using NativeSeg.Models.Inference;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Benchmarks;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg bench model [--model M] --image I [--device D] [--precision P] [--runs N] [--warmup W] [--threads T] [--score-thresh S]
/// [--mask-rois R] [--ceilings C] [--json OUT]`: decodes and segments one image repeatedly and prints the median time of each stage
/// the model has and of the whole inference, each stage's share of the whole, and for the stages that run convolutions
/// or linear layers their FLOPs (counted from each call's shapes by <see cref="FlopCount"/>; Winograd's are the direct
/// convolution's, "effective") and GFLOP/s against the ceilings measured after the runs (<see cref="ComputeCeilings"/>);
/// then the memory pool's bytes in use before the timed runs (after the warm-up) and after them (equal unless something leaks); on a device, also the host↔device copies and synchronisations of one more run, made without
/// the stage clock (whose laps synchronise). For BCNet models it also times the bilayer mask head against Mask R-CNN's mask head on
/// the same RoIs: what BCNet adds.
/// </summary>
internal static class BenchModelCommand
{
    private const string EndToEnd = "end to end";

    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = $"converted .safetensors model (nativeseg convert); default: {DefaultModel.RelativePath}" }.ModelFile();
        var image = new Option<string>("--image") { Description = "image to segment (.jpg, .png)", Required = true }.ExistingFile();
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto" }.Device();
        var runs = new Option<int>("--runs") { Description = "timed inferences", DefaultValueFactory = _ => 10 }.AtLeast(1);
        var warmup = new Option<int>("--warmup") { Description = "untimed inferences first", DefaultValueFactory = _ => 2 }.AtLeast(0);
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: NATIVESEG_THREADS or all cores)" }.AtLeast(1);
        var score = new Option<float?>("--score-thresh") { Description = "box score threshold from 0 to 1 (default: the model's)" }.Fraction();
        var maskRois = new Option<int?>("--mask-rois") { Description = "BCNet models: RoIs for the mask head comparison (default: the image's detections)" }.AtLeast(1);
        var json = new Option<string?>("--json") { Description = "also write the results to this JSON file" }.OutputFile();
        var ceilings = new Option<string>("--ceilings")
        {
            Description = "SGEMM size the GFLOP/s are compared with: small (512), paper (4096), large (8192) or none",
            DefaultValueFactory = _ => "paper",
        };
        ceilings.AcceptOnlyFromAmong(ComputeCeilings.Choices);
        var precision = PrecisionOption.Create();
        var command = new Command("model", "Time a whole model, stage by stage, on one image")
        {
            model, image, device, precision, runs, warmup, threads, score, maskRois, ceilings, json,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            int n = parseResult.GetValue(runs), w = parseResult.GetValue(warmup);
            if (parseResult.GetValue(threads) is int t) CpuThreads.Count = t;
            string imagePath = parseResult.GetValue(image)!;
            string? modelPath = DefaultModel.Resolve(parseResult.GetValue(model));
            if (modelPath is null)
            {
                config.Error.WriteLine($"error: {DefaultModel.NotFound}");
                return ExitCodes.Usage;
            }
            try
            {
                InstanceSegmenters.Inspect(modelPath);
            }
            catch (Exception e) when (e is NotSupportedException or IOException or FormatException)
            {
                config.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
            var target = DeviceSelector.Select(parseResult.GetValue(device)!, config.Error);
            var chosen = PrecisionOption.Parse(parseResult.GetValue(precision)!);
            if (PrecisionOption.Refusal(chosen, target) is { } refused)
            {
                config.Error.WriteLine(refused);
                return ExitCodes.Usage;
            }
            using var net = InstanceSegmenters.Open(modelPath, new SegmenterOptions(target, parseResult.GetValue(score), chosen));
            return Run(net, target, chosen, imagePath, n, w, parseResult.GetValue(maskRois), parseResult.GetValue(ceilings)!, parseResult.GetValue(json), config.Output);
        });
        return command;
    }

    private static int Run(IInstanceSegmenter net, Device device, InferencePrecision precision, string imagePath, int runs, int warmup, int? maskRois,
        string ceilingChoice, string? jsonPath, TextWriter output)
    {
        long poolBefore = 0, hostBefore = 0;
        var clock = new StageClock(device);
        var samples = Stages.All.Append(EndToEnd).ToDictionary(s => s, _ => new double[runs]);
        var flops = new Dictionary<string, long>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var counted = FlopCount.Begin();
        int detections = 0, height = 0, width = 0;
        for (int r = -warmup; r < runs; r++)
        {
            // After the warm-up, which made what a compiled model makes on first use (Winograd filter transforms).
            if (r == 0) (poolBefore, hostBefore) = (device.Pool.BytesInUse, Device.Cpu.Pool.BytesInUse);
            clock.Restart();
            long start = Stopwatch.GetTimestamp();
            var image = ImageFile.Read(imagePath);
            clock.Lap(Stages.Decode);
            detections = net.Segment([image], clock)[0].Count;
            double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            (height, width) = (image.Height, image.Width);
            if (r < 0) continue;
            // A stage with nothing to do (no detections to paste) records no lap: it took no time.
            // The same image gives every run the same shapes, so the last run's FLOPs are every run's.
            foreach (var (stage, ms, stageFlops) in clock.Laps)
            {
                samples[stage][r] = ms;
                flops[stage] = stageFlops;
                seen.Add(stage);
            }
            samples[EndToEnd][r] = total;
        }
        flops[EndToEnd] = flops.Values.Sum();
        long poolAfter = device.Pool.BytesInUse, hostAfter = Device.Cpu.Pool.BytesInUse;
        var traffic = device.Runtime is { } runtime ? Traffic(net, runtime, imagePath) : (TrafficCounts?)null;
        var ceilings = ComputeCeilings.Measure(device, ceilingChoice);
        // Each model reports the stages it has: a one-stage detector has no RPN, a two-stage one no FCOS head.
        var ran = Stages.All.Where(s => seen.Contains(s)).Prepend(Stages.Decode).Distinct().Append(EndToEnd).ToList();
        samples = ran.ToDictionary(s => s, s => samples[s]);

        string threads = device.IsCpu ? $", {CpuThreads.Count} threads" : "";
        output.WriteLine($"{net.Architecture} on {device}{threads}, {PrecisionOption.Name(precision)}: {width}x{height} image, {detections} detections, median of {runs} runs after {warmup} warm-up");
        var rows = samples.Select(kv => StageRow.Of(kv.Key, kv.Value, flops.GetValueOrDefault(kv.Key), Summary(samples[EndToEnd]).Median, ceilings)).ToList();
        output.WriteLine($"{"stage",-14}  {"median ms",10}  {"min",9}  {"max",9}  {"share",6}  {"GFLOP",8}  {"GFLOP/s",8}  {"%sgemm",6}  {"%panel",6}");
        foreach (var row in rows) output.WriteLine(row.Text);
        if (ceilings is not null)
        {
            string panel = ceilings.PanelKernel is { } p
                ? string.Create(CultureInfo.InvariantCulture, $", {p.Label} {p.GflopsPerSecond:0.0} GFLOP/s (the convolutions' micro-kernel: the fairer ceiling)")
                : "";
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"ceilings (median of {ceilings.Sgemm.Milliseconds.Count} runs after the model's): {ceilings.Sgemm.Label} {ceilings.Sgemm.GflopsPerSecond:0.0} GFLOP/s{panel}"));
        }
        output.WriteLine("FLOPs: convolutions, transposed convolutions and linear layers, 2 per multiply-add of the direct method (Winograd's counted as the direct convolution's: effective GFLOP/s)");
        output.WriteLine($"pool bytes in use on {device}: {poolBefore} before the runs, {poolAfter} after");
        if (!device.IsCpu) output.WriteLine($"pool bytes in use on cpu: {hostBefore} before the runs, {hostAfter} after");
        if (traffic is { } t) output.WriteLine($"per image on {device}: {t}");
        MaskHeadCostResult? cost = null;
        if (net is IOcclusionExplainer { CanExplain: true })
        {
            cost = MaskHeadCost.Measure(device, maskRois ?? Math.Max(detections, 1), runs, warmup);
            output.WriteLine($"mask heads on the same {cost.Rois} RoIs x 256x14x14 ({device}, random weights, median of {runs} runs):");
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"Mask R-CNN mask head",-22}  {cost.StandardMs,10:0.00} ms  {cost.StandardGmacPerRoi:0.000} GMAC/RoI"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"BCNet bilayer head",-22}  {cost.BilayerMs,10:0.00} ms  {cost.BilayerGmacPerRoi:0.000} GMAC/RoI"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {"added by BCNet",-22}  {cost.AddedMs,10:0.00} ms  ({cost.Ratio:0.00}x the Mask R-CNN head)"));
        }
        if (jsonPath is not null)
            WriteJson(jsonPath, net.Architecture, device, precision, imagePath, (height, width), runs, warmup, detections, samples, rows, ceilings, (poolBefore, poolAfter), (hostBefore, hostAfter), traffic, cost);
        return ExitCodes.Ok;
    }

    /// <summary>The copies, synchronisations and kernel launches of one inference of the image, decoded beforehand.</summary>
    private static TrafficCounts Traffic(IInstanceSegmenter net, IDeviceRuntime runtime, string imagePath)
    {
        var image = ImageFile.Read(imagePath);
        var before = runtime.Traffic.Counts;
        net.Segment([image]);
        return runtime.Traffic.Counts - before;
    }

    private static void WriteCeiling(Utf8JsonWriter json, string name, KernelBenchmarkResult ceiling)
    {
        json.WriteStartObject(name);
        json.WriteString("label", ceiling.Label);
        json.WriteNumber("median_ms", ceiling.Median);
        json.WriteNumber("gflops_per_second", ceiling.GflopsPerSecond);
        json.WriteEndObject();
    }

    internal static (double Median, double Min, double Max) Summary(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return (median, sorted[0], sorted[^1]);
    }

    private static void WriteJson(string path, string architecture, Device device, InferencePrecision precision, string image, (int H, int W) size, int runs, int warmup, int detections,
        Dictionary<string, double[]> samples, IReadOnlyList<StageRow> rows, ComputeCeilings? ceilings, (long Before, long After) pool, (long Before, long After) host, TrafficCounts? traffic, MaskHeadCostResult? cost)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("architecture", architecture);
        json.WriteString("device", device.ToString());
        json.WriteString("precision", PrecisionOption.Name(precision));
        if (device.IsCpu) json.WriteNumber("threads", CpuThreads.Count);
        json.WriteString("image", image);
        json.WriteNumber("height", size.H);
        json.WriteNumber("width", size.W);
        json.WriteNumber("runs", runs);
        json.WriteNumber("warmup", warmup);
        json.WriteNumber("detections", detections);
        json.WriteNumber("pool_bytes_in_use_before", pool.Before);
        json.WriteNumber("pool_bytes_in_use_after", pool.After);
        json.WriteNumber("host_pool_bytes_in_use_before", host.Before);
        json.WriteNumber("host_pool_bytes_in_use_after", host.After);
        if (traffic is { } t)
        {
            json.WriteStartObject("per_image");
            json.WriteNumber("host_to_device_copies", t.HostToDevice);
            json.WriteNumber("host_to_device_bytes", t.HostToDeviceBytes);
            json.WriteNumber("device_to_host_copies", t.DeviceToHost);
            json.WriteNumber("device_to_host_bytes", t.DeviceToHostBytes);
            json.WriteNumber("synchronizations", t.Synchronizations);
            json.WriteNumber("kernel_launches", t.Launches);
            json.WriteEndObject();
        }
        if (ceilings is not null)
        {
            json.WriteStartObject("ceilings");
            WriteCeiling(json, "sgemm", ceilings.Sgemm);
            if (ceilings.PanelKernel is { } panel) WriteCeiling(json, "panel_kernel", panel);
            json.WriteEndObject();
        }
        json.WriteStartObject("stages");
        foreach (var row in rows)
        {
            json.WriteStartObject(row.Stage);
            json.WriteNumber("median_ms", row.Median);
            json.WriteNumber("min_ms", row.Min);
            json.WriteNumber("max_ms", row.Max);
            json.WriteNumber("share", row.Share);
            json.WriteNumber("flops", row.Flops);
            if (row.GflopsPerSecond is double rate)
            {
                json.WriteNumber("gflops_per_second", rate);
                if (row.OfSgemm is double ofSgemm) json.WriteNumber("fraction_of_sgemm", ofSgemm);
                if (row.OfPanel is double ofPanel) json.WriteNumber("fraction_of_panel_kernel", ofPanel);
            }
            json.WriteStartArray("samples_ms");
            foreach (double v in samples[row.Stage]) json.WriteNumberValue(v);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        if (cost is not null)
        {
            json.WriteStartObject("mask_head_cost");
            json.WriteNumber("rois", cost.Rois);
            json.WriteNumber("maskrcnn_head_ms", cost.StandardMs);
            json.WriteNumber("bilayer_head_ms", cost.BilayerMs);
            json.WriteNumber("added_ms", cost.AddedMs);
            json.WriteNumber("ratio", cost.Ratio);
            json.WriteNumber("maskrcnn_head_gmac_per_roi", cost.StandardGmacPerRoi);
            json.WriteNumber("bilayer_head_gmac_per_roi", cost.BilayerGmacPerRoi);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }
}
