using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Models.MaskRcnn.Training;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg bench train`: seconds per training iteration (median and mean after warmup) and peak memory of a
/// finetune on the given data, run exactly as `nativeseg train` runs it, outputs going to a scratch folder.
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "initial weights (.safetensors)", Required = true };
        var annotations = new Option<string>("--annotations") { Description = "COCO instances JSON", Required = true };
        var images = new Option<string>("--images") { Description = "image folder", Required = true };
        var iters = new Option<int>("--iters") { Description = "timed iterations", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "untimed iterations first", DefaultValueFactory = _ => 1 };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 2 };
        var minSize = new Option<int?>("--min-size") { Description = "shortest edge (default: the model's)" };
        var maxSize = new Option<int?>("--max-size") { Description = "longest-edge cap (default: the model's)" };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all cores)" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu" };
        var command = new Command("train", "Time training iterations (seconds per iteration, peak memory)")
        {
            model, annotations, images, iters, warmup, batch, minSize, maxSize, threads, device,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            int timed = parseResult.GetValue(iters), untimed = parseResult.GetValue(warmup);
            if (timed < 1 || untimed < 0)
            {
                config.Error.WriteLine("error: --iters must be at least 1 and --warmup not negative");
                return 2;
            }
            if (parseResult.GetValue(threads) is { } t) CpuThreads.Count = Math.Max(1, t);
            string scratch = Path.Combine(Path.GetTempPath(), $"nativeseg-bench-train-{Environment.ProcessId}");
            var run = new TrainingRun
            {
                ModelPath = parseResult.GetValue(model)!, AnnotationsPath = parseResult.GetValue(annotations)!, ImagesDirectory = parseResult.GetValue(images)!,
                OutputDirectory = scratch, Iterations = untimed + timed, BatchSize = parseResult.GetValue(batch), LearningRate = 1e-3f,
                MinSizes = parseResult.GetValue(minSize) is { } m ? [m] : null, MaxSize = parseResult.GetValue(maxSize),
                CheckpointEvery = int.MaxValue, Device = DeviceSelector.Select(parseResult.GetValue(device)!, config.Error),
            };
            var seconds = new List<double>();
            var clock = Stopwatch.StartNew();
            try
            {
                MaskRcnnTrainer.Run(run, TextWriter.Null, r =>
                {
                    if (r.Iteration >= untimed) seconds.Add(r.Seconds);
                }, CancellationToken.None);
            }
            catch (Exception e) when (e is IOException or FormatException or NotSupportedException or ArgumentException or KeyNotFoundException
                or Models.Training.Data.TrainingDataException or Engine.Formats.Coco.CocoFormatException)
            {
                config.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            finally
            {
                if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
            }
            seconds.Sort();
            using var self = Process.GetCurrentProcess();
            config.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"train {run.BatchSize} images/iteration on {run.Device} ({CpuThreads.Count} threads): median {seconds[seconds.Count / 2]:F3} s/it, " +
                $"mean {seconds.Average():F3} s/it over {seconds.Count} iterations; peak resident memory {self.PeakWorkingSet64 / (1024.0 * 1024):F0} MiB; " +
                $"whole run {clock.Elapsed.TotalSeconds:F1} s"));
            return 0;
        });
        return command;
    }
}
