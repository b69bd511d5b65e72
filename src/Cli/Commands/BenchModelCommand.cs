using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg bench model --model M --image I [--device D] [--runs N] [--warmup W] [--threads T] [--score-thresh S] [--json OUT]`:
/// decodes and segments one image repeatedly and prints the median time of each stage and of the whole
/// inference, then the memory pool's bytes in use before and after the runs (equal unless something leaks).
/// </summary>
internal static class BenchModelCommand
{
    private const string EndToEnd = "end to end";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "converted .safetensors model (nativeseg convert)", Required = true };
        var image = new Option<string>("--image") { Description = "image to segment (.jpg, .png)", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto" };
        var runs = new Option<int>("--runs") { Description = "timed inferences", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "untimed inferences first", DefaultValueFactory = _ => 2 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: NATIVESEG_THREADS or all cores)" };
        var score = new Option<float?>("--score-thresh") { Description = "box score threshold (default: the model's)" };
        var json = new Option<string?>("--json") { Description = "also write the results to this JSON file" };
        var command = new Command("model", "Time a whole model, stage by stage, on one image") { model, image, device, runs, warmup, threads, score, json };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            int n = parseResult.GetValue(runs), w = parseResult.GetValue(warmup);
            if (n < 1 || w < 0)
            {
                config.Error.WriteLine($"error: --runs must be at least 1 and --warmup at least 0, got {n} and {w}");
                return 2;
            }
            if (parseResult.GetValue(threads) is int t) CpuThreads.Count = t;
            string modelPath = parseResult.GetValue(model)!, imagePath = parseResult.GetValue(image)!;
            MaskRcnnSetup setup;
            try
            {
                setup = MaskRcnn.Inspect(modelPath);
            }
            catch (Exception e) when (e is NotSupportedException or IOException or FormatException)
            {
                config.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            if (!File.Exists(imagePath))
            {
                config.Error.WriteLine($"error: image {imagePath} does not exist");
                return 2;
            }
            var target = DeviceSelector.Select(parseResult.GetValue(device)!, config.Error);
            using var net = MaskRcnn.Load(modelPath, target, parseResult.GetValue(score));
            return Run(net, setup, imagePath, n, w, parseResult.GetValue(json), config.Output);
        });
        return command;
    }

    private static int Run(MaskRcnn net, MaskRcnnSetup setup, string imagePath, int runs, int warmup, string? jsonPath, TextWriter output)
    {
        var device = net.Device;
        long poolBefore = device.Pool.BytesInUse, hostBefore = Device.Cpu.Pool.BytesInUse;
        var clock = new StageClock(device);
        var samples = Stages.All.Append(EndToEnd).ToDictionary(s => s, _ => new double[runs]);
        int detections = 0, height = 0, width = 0;
        for (int r = -warmup; r < runs; r++)
        {
            clock.Restart();
            long start = Stopwatch.GetTimestamp();
            var image = ImageFile.Read(imagePath);
            clock.Lap(Stages.Decode);
            detections = net.Segment([image], clock)[0].Count;
            double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            (height, width) = (image.Height, image.Width);
            if (r < 0) continue;
            // A stage with nothing to do (no detections to paste) records no lap: it took no time.
            foreach (var (stage, ms) in clock.Laps) samples[stage][r] = ms;
            samples[EndToEnd][r] = total;
        }
        long poolAfter = device.Pool.BytesInUse, hostAfter = Device.Cpu.Pool.BytesInUse;

        string threads = device.IsCpu ? $", {CpuThreads.Count} threads" : "";
        output.WriteLine($"{setup.Architecture} on {device}{threads}: {width}x{height} image, {detections} detections, median of {runs} runs after {warmup} warm-up");
        output.WriteLine($"{"stage",-14}  {"median ms",10}  {"min",9}  {"max",9}");
        foreach (var (stage, values) in samples)
        {
            var (median, min, max) = Summary(values);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stage,-14}  {median,10:0.00}  {min,9:0.00}  {max,9:0.00}"));
        }
        output.WriteLine($"pool bytes in use on {device}: {poolBefore} before the runs, {poolAfter} after");
        if (!device.IsCpu) output.WriteLine($"pool bytes in use on cpu: {hostBefore} before the runs, {hostAfter} after");
        if (jsonPath is not null)
            WriteJson(jsonPath, setup, device, imagePath, (height, width), runs, warmup, detections, samples, (poolBefore, poolAfter), (hostBefore, hostAfter));
        return 0;
    }

    private static (double Median, double Min, double Max) Summary(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return (median, sorted[0], sorted[^1]);
    }

    private static void WriteJson(string path, MaskRcnnSetup setup, Device device, string image, (int H, int W) size, int runs, int warmup, int detections,
        Dictionary<string, double[]> samples, (long Before, long After) pool, (long Before, long After) host)
    {
        using var stream = File.Create(path);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("architecture", setup.Architecture);
        json.WriteString("device", device.ToString());
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
        json.WriteStartObject("stages");
        foreach (var (stage, values) in samples)
        {
            var (median, min, max) = Summary(values);
            json.WriteStartObject(stage);
            json.WriteNumber("median_ms", median);
            json.WriteNumber("min_ms", min);
            json.WriteNumber("max_ms", max);
            json.WriteStartArray("samples_ms");
            foreach (double v in values) json.WriteNumberValue(v);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }
}
