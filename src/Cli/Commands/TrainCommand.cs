using System.CommandLine;
using NativeSeg.Cli.Parsing;
using System.Globalization;
using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.Bpr;
using NativeSeg.Models.Bpr.Training;
using NativeSeg.Models.MaskRcnn.Training;
using NativeSeg.Models.Training;
using NativeSeg.Models.Training.Data;

namespace NativeSeg.Cli.Commands;

/// <summary>
/// `nativeseg train`: finetunes a converted Mask R-CNN on a COCO dataset, or trains a BPR refiner on boundary patches of
/// coarse masks (--coarse) when the model is a BPR network.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "initial weights (.safetensors from `convert` or a previous run)", Required = true }.ModelFile();
        var annotations = new Option<string>("--annotations") { Description = "COCO instances JSON (polygons or RLE; crowds ignored)", Required = true }.ExistingFile();
        var images = new Option<string>("--images") { Description = "folder the annotations' file names are relative to", Required = true }.ExistingFolder();
        var output = new Option<string>("--out") { Description = "run folder: model_final.safetensors, checkpoint.safetensors, metrics.jsonl", Required = true }.OutputFolder();
        var iters = new Option<int>("--iters") { Description = "iterations to train", Required = true };
        var batch = new Option<int>("--batch") { Description = "images per iteration", Required = true };
        var lr = new Option<float>("--lr") { Description = "base learning rate", Required = true };
        var momentum = new Option<float>("--momentum") { DefaultValueFactory = _ => 0.9f };
        var weightDecay = new Option<float?>("--weight-decay") { Description = "default: 1e-4 for a Mask R-CNN, 5e-4 (upstream's) for BPR" };
        var warmupIters = new Option<int>("--warmup-iters") { Description = "linear warmup iterations", DefaultValueFactory = _ => 0 };
        var warmupFactor = new Option<float>("--warmup-factor") { Description = "learning-rate factor at iteration 0 of the warmup", DefaultValueFactory = _ => 0.001f };
        var steps = new Option<string?>("--steps") { Description = "iterations at which the learning rate is multiplied by --gamma, e.g. 6000,8000" };
        var gamma = new Option<float>("--gamma") { DefaultValueFactory = _ => 0.1f };
        var minSize = new Option<string?>("--min-size") { Description = "shortest-edge sizes, one picked per image (default: the model's test size)" };
        var maxSize = new Option<int?>("--max-size") { Description = "longest-edge cap (default: the model's)" };
        var noFlip = new Option<bool>("--no-flip") { Description = "no random horizontal flip" };
        var seed = new Option<ulong>("--seed") { Description = "seeds shuffling, augmentation, sampling and new layers", DefaultValueFactory = _ => 0 };
        var threads = new Option<int?>("--threads") { Description = "CPU threads for the network (default: all cores)" }.AtLeast(1);
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "cpu" }.Device();
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "write a checkpoint every K iterations", DefaultValueFactory = _ => 500 };
        var resume = new Option<bool>("--resume") { Description = "continue from the run folder's checkpoint" };
        var clip = new Option<double?>("--clip-grad-norm") { Description = "clip gradients to this global L2 norm" };
        var fp16 = new Option<bool>("--fp16") { Description = "write model_final.safetensors in float16 (half the size; checkpoints stay float32)" };
        var coarse = new Option<string?>("--coarse")
        {
            Description = "BPR: COCO results with coarse masks on the training images (e.g. from `segment`); patches are cut along them",
        }.ExistingFile();
        var sampleInstances = new Option<int?>("--sample-instances") { Description = "BPR: cut patches from at most this many matched coarse masks, drawn with --seed" };
        var command = new Command("train", "Finetune a Mask R-CNN on COCO-format data (new categories re-initialise the class-specific layers), "
            + "or train a BPR refiner on boundary patches of coarse masks (poly learning rate to 1e-4, weight decay default 5e-4)")
        {
            model, annotations, images, output, iters, batch, lr, momentum, weightDecay, warmupIters, warmupFactor, steps, gamma,
            minSize, maxSize, noFlip, seed, threads, device, checkpointEvery, resume, clip, fp16, coarse, sampleInstances,
        };
        command.SetAction((parseResult, cancel) =>
        {
            var config = parseResult.InvocationConfiguration;
            if (!TryParseList(parseResult.GetValue(steps), out var stepList) || !TryParseList(parseResult.GetValue(minSize), out var sizes))
            {
                config.Error.WriteLine("error: --steps and --min-size take comma-separated positive integers, e.g. 640,672,704");
                return Task.FromResult(ExitCodes.Usage);
            }
            if (parseResult.GetValue(threads) is { } t) CpuThreads.Count = t;
            string modelPath = DefaultModel.Resolve(parseResult.GetValue(model))!;
            if (BprModel.Holds(modelPath))
            {
                var maskRcnnOnly = new Option[] { warmupIters, warmupFactor, steps, gamma, minSize, maxSize, clip }.Where(o => parseResult.GetResult(o) is { Implicit: false }).ToList();
                if (maskRcnnOnly.Count > 0 || parseResult.GetValue(coarse) is null)
                {
                    config.Error.WriteLine(maskRcnnOnly.Count > 0
                        ? $"error: {string.Join(", ", maskRcnnOnly.Select(o => o.Name))} do not apply to a BPR model (poly schedule, fixed patch size)"
                        : $"error: {modelPath} is a BPR model: --coarse names the coarse masks to cut training patches along");
                    return Task.FromResult(ExitCodes.Usage);
                }
                var bprRun = new BprTrainingRun
                {
                    ModelPath = modelPath, AnnotationsPath = parseResult.GetValue(annotations)!, ImagesDirectory = parseResult.GetValue(images)!,
                    CoarsePath = parseResult.GetValue(coarse)!, OutputDirectory = parseResult.GetValue(output)!, Iterations = parseResult.GetValue(iters),
                    BatchSize = parseResult.GetValue(batch), LearningRate = parseResult.GetValue(lr), Momentum = parseResult.GetValue(momentum),
                    MaxInstances = parseResult.GetValue(sampleInstances), Flip = !parseResult.GetValue(noFlip), Seed = parseResult.GetValue(seed),
                    CheckpointEvery = parseResult.GetValue(checkpointEvery), Resume = parseResult.GetValue(resume), Fp16Model = parseResult.GetValue(fp16),
                    Device = DeviceSelector.Select(parseResult.GetValue(device)!, config.Error),
                };
                if (parseResult.GetValue(weightDecay) is { } bprDecay) bprRun = bprRun with { WeightDecay = bprDecay };
                return Task.FromResult(Run(bprRun.Problem(), (report, c) => BprTrainer.Run(bprRun, config.Output, report, c), config.Output, config.Error, cancel));
            }
            if (parseResult.GetValue(coarse) is not null || parseResult.GetValue(sampleInstances) is not null)
            {
                config.Error.WriteLine($"error: --coarse and --sample-instances train a BPR model; {modelPath} is not one");
                return Task.FromResult(ExitCodes.Usage);
            }
            var run = new TrainingRun
            {
                ModelPath = modelPath, AnnotationsPath = parseResult.GetValue(annotations)!, ImagesDirectory = parseResult.GetValue(images)!,
                OutputDirectory = parseResult.GetValue(output)!, Iterations = parseResult.GetValue(iters), BatchSize = parseResult.GetValue(batch),
                LearningRate = parseResult.GetValue(lr), Momentum = parseResult.GetValue(momentum),
                WarmupIterations = parseResult.GetValue(warmupIters), WarmupFactor = parseResult.GetValue(warmupFactor), Steps = stepList ?? [],
                Gamma = parseResult.GetValue(gamma), MinSizes = sizes, MaxSize = parseResult.GetValue(maxSize), Flip = !parseResult.GetValue(noFlip),
                Seed = parseResult.GetValue(seed), CheckpointEvery = parseResult.GetValue(checkpointEvery), Resume = parseResult.GetValue(resume),
                ClipGradientNorm = parseResult.GetValue(clip), Fp16Model = parseResult.GetValue(fp16), Device = DeviceSelector.Select(parseResult.GetValue(device)!, config.Error),
            };
            if (parseResult.GetValue(weightDecay) is { } decay) run = run with { WeightDecay = decay };
            return Task.FromResult(Run(run.Problem(), (report, c) => MaskRcnnTrainer.Run(run, config.Output, report, c), config.Output, config.Error, cancel));
        });
        return command;
    }

    /// <summary>Runs a trainer after its settings' <paramref name="problem"/> check, printing a progress line per iteration.</summary>
    private static int Run(string? problem, Action<Action<IterationReport>, CancellationToken> train, TextWriter output, TextWriter error, CancellationToken cancel)
    {
        if (problem is not null)
        {
            error.WriteLine($"error: {problem}");
            return ExitCodes.Usage;
        }
        try
        {
            var timing = new List<double>();
            train(report =>
            {
                timing.Add(report.Seconds);
                output.WriteLine(ProgressLine(report, timing));
            }, cancel);
            return cancel.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Ok;
        }
        catch (Exception e) when (e is TrainingDataException or CocoFormatException or IOException or FormatException or NotSupportedException
            or KeyNotFoundException or ArgumentException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (TrainingDivergedException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// "iter 20/100  loss 1.234 (loss_objectness 0.101, ...)  lr 0.0025  3.10 s/it  0:04:08 left": this iteration's
    /// seconds, and the time left at the mean of the last 20 (the first iterations also pay for warming up).
    /// </summary>
    internal static string ProgressLine(IterationReport r, IReadOnlyList<double> seconds)
    {
        double perIteration = seconds.TakeLast(20).Average();
        var left = TimeSpan.FromSeconds(perIteration * (r.Total - r.Iteration - 1));
        string terms = string.Join(", ", r.Terms.Select(t => $"{t.Name} {t.Value.ToString("F4", CultureInfo.InvariantCulture)}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"iter {r.Iteration + 1}/{r.Total}  loss {r.Loss:F4} ({terms})  lr {r.LearningRate:G4}  {r.Seconds:F2} s/it  {(int)left.TotalHours}:{left.Minutes:D2}:{left.Seconds:D2} left");
    }

    private static bool TryParseList(string? text, out IReadOnlyList<int>? values)
    {
        values = null;
        if (string.IsNullOrWhiteSpace(text)) return true;
        var parsed = new List<int>();
        foreach (var part in text.Split(','))
        {
            if (!int.TryParse(part.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int v) || v < 1) return false;
            parsed.Add(v);
        }
        values = parsed;
        return true;
    }
}
