using System.CommandLine;
using NativeSeg.Cli.Parsing;
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
        var model = new Option<string>("--model") { Description = "initial weights (.safetensors)", Required = true }.ModelFile();
        var annotations = new Option<string>("--annotations") { Description = "COCO instances JSON", Required = true }.ExistingFile();
        var images = new Option<string>("--images") { Description = "image folder", Required = true }.ExistingFolder();
        var iters = new Option<int>("--iters") { Description = "timed iterations", DefaultValueFactory = _ => 5 }.AtLeast(1);
        var warmup = new Option<int>("--warmup") { Description = "untimed iterations first", DefaultValueFactory = _ => 1 }.AtLeast(0);
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 2 }.AtLeast(1);
        var minSize = new Option<int?>("--min-size") { Description = "shortest edge (default: the model's)" }.AtLeast(1);
        var maxSize = new Option<int?>("--max-size") { Description = "longest-edge cap (default: the model's)" }.AtLeast(1);
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: all cores)" }.AtLeast(1);
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu" }.Device();
        var command = new Command("train", "Time training iterations (seconds per iteration, peak memory)")
        {
            model, annotations, images, iters, warmup, batch, minSize, maxSize, threads, device,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            int timed = parseResult.GetValue(iters), untimed = parseResult.GetValue(warmup);
            if (parseResult.GetValue(threads) is { } t) CpuThreads.Count = t;
            string scratch = Path.Combine(Path.GetTempPath(), $"nativeseg-bench-train-{Environment.ProcessId}");
            var run = new TrainingRun
            {
                ModelPath = DefaultModel.Resolve(parseResult.GetValue(model))!, AnnotationsPath = parseResult.GetValue(annotations)!, ImagesDirectory = parseResult.GetValue(images)!,
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
                return ExitCodes.Usage;
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
            return ExitCodes.Ok;
        });
        return command;
    }
}
