using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using NativeSeg.Cli.Inputs;
using NativeSeg.Cli.Parsing;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Cuda;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Memory;
using NativeSeg.Layers;
using NativeSeg.Models.Bpr;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg segment`: runs a converted model on images, writing overlays and COCO results (and, for bilayer and BlendMask models, explain figures).</summary>
internal static class SegmentCommand
{
    public static Command Create()
    {
        var limits = ImageLimits.Default;
        var inputs = new Argument<string[]>("inputs")
        {
            Description = "images (.jpg, .jpeg, .png), folders searched recursively in path order (other files are named and skipped), or - for one image on standard input; "
                + $"each image at most {limits.MaxPixels:N0} pixels and {limits.MaxSide} a side (checked from the file header)",
            Arity = ArgumentArity.ZeroOrMore,
        };
        inputs.Validators.Add(SegmentInputs.Validate);
        var list = new Option<string?>("--list")
        {
            Description = "a file naming one image per line (relative paths are relative to the list's folder; blank lines are skipped), segmented after the inputs",
        }.ExistingFile();
        var images = new Option<string?>("--images")
        {
            Description = "with --annotations: segment the annotation file's images, found as DIR/file_name, with its image ids (instead of inputs or --list)",
        }.ExistingFolder();
        var shard = new Option<string?>("--shard")
        {
            Description = "segment only shard I of N (I/N, 0 <= I < N): the inputs whose path below their folder, list or annotation file hashes to I; "
                + "slurm takes I and N from the job array task (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT). Writes JSON Lines, by default OUT/shard-I-of-N.jsonl",
        };
        var model = new Option<string?>("--model")
        {
            Description = $"converted .safetensors model (nativeseg convert); default: {DefaultModel.RelativePath}, the small model trained on `nativeseg synth` shapes",
        }.ModelFile();
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" }.Device();
        var score = new Option<float?>("--score-thresh") { Description = "box score threshold of the results, from 0 to 1 (default: the model's own: 0.05 for Mask R-CNN and MS R-CNN, BCNet FCOS's candidate threshold 0.03)" }.Fraction();
        var draw = new Option<float>("--draw-thresh")
        {
            Description = "score from 0 to 1 from which instances are drawn on the overlays; the results JSON keeps every instance above --score-thresh",
            DefaultValueFactory = _ => Overlay.DefaultDrawThreshold,
        }.Fraction();
        var output = new Option<string>("--out")
        {
            Description = "folder for the overlay PNGs, each at OUT/PATH.png for the image's path below its folder, list or annotation file",
            DefaultValueFactory = _ => "nativeseg-out",
        }.OutputFolder();
        var json = new Option<string?>("--json")
        {
            Description = "results file (default: OUT/results.json; - writes a COCO array to standard output and the progress to standard error); "
                + "its image_id is the input's position (1-based over every input, folders expanded in path order) unless --annotations is given. "
                + "A FILE ending in .jsonl gets JSON Lines, one line {\"input\": FULL_PATH, \"results\": [records]} per image, appended and flushed as each image finishes; "
                + "any other FILE is a COCO results array, written at the end from such lines kept meanwhile in FILE.partial",
        }.OutputFile(allowStdout: true);
        var annotations = new Option<string?>("--annotations")
        {
            Description = "COCO annotation file whose image ids the results use, matched by file_name against each input path's trailing components (or its bare file name when unique); "
                + "an input that matches none or several is an error before anything runs. With --images, its images are the inputs",
        }.ExistingFile();
        var batch = new Option<int>("--batch")
        {
            Description = "images per forward pass (default 1); a batch pads every image with zeros to its largest height and width, rounded up to 32, "
                + "as torchvision and detectron2 batch images, and the network sees that padding: detections near an image's bottom and right edges "
                + "are those the framework gives for the same batch and can differ slightly from --batch 1, which matches a run of each image alone",
            DefaultValueFactory = _ => 1,
        }.AtLeast(1);
        var resume = new Option<bool>("--resume")
        {
            Description = "continue a run that was killed: keep the images finished in the results lines (FILE.jsonl, or FILE.partial; a last line cut off by the kill is dropped), "
                + "segment only the others; without it, lines left by an earlier run are an error",
        };
        var explain = new Option<bool>("--explain")
        {
            Description = "BCNet and bilayer models: also write OUT/explain/IMAGE_K.png per instance with its occluder and occludee mask and boundary heatmaps; BlendMask: its four pooled bases, their attentions and the blended mask",
        };
        var refine = new Option<string?>("--refine")
        {
            Description = "converted BPR model (bpr-hr18s or bpr-hr48): refine every mask along its boundary before it is drawn and written, as `nativeseg refine` does",
        }.ModelFile();
        var precision = PrecisionOption.Create();
        var command = new Command("segment", "instance segmentation of images with a converted Mask R-CNN, MS R-CNN or BCNet model")
        {
            inputs, list, images, shard, model, device, precision, score, draw, output, json, annotations, batch, explain, resume, refine,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            string outDir = parseResult.GetValue(output)!;
            string? modelPath = DefaultModel.Resolve(parseResult.GetValue(model));
            if (modelPath is null)
            {
                config.Error.WriteLine($"error: {DefaultModel.NotFound}");
                return ExitCodes.Usage;
            }
            var selected = Shard.All;
            if (parseResult.GetValue(shard) is { } spec && (selected = Shard.Parse(spec, Environment.GetEnvironmentVariable, out string? wrong)) is null)
            {
                config.Error.WriteLine($"error: {wrong}");
                return ExitCodes.Usage;
            }
            string? jsonPath = parseResult.GetValue(json);
            if (selected.Count > 1 && jsonPath is not null && !ResultLines.IsLinesFile(jsonPath))
            {
                config.Error.WriteLine($"error: --shard writes JSON Lines for `nativeseg merge`: --json must name a .jsonl file, got {jsonPath}");
                return ExitCodes.Usage;
            }
            jsonPath ??= Path.Combine(outDir, selected.Count > 1 ? $"shard-{selected.Index}-of-{selected.Count}.jsonl" : "results.json");
            var source = InputSource.Create(parseResult.GetValue(inputs) ?? [], parseResult.GetValue(list), parseResult.GetValue(annotations),
                parseResult.GetValue(images), config.Error);
            if (source is null) return ExitCodes.Usage;
            // With the results on standard output, everything else goes to standard error.
            var progress = jsonPath == StandardStreams.Name ? config.Error : config.Output;
            var results = SegmentResults.Plan(jsonPath, parseResult.GetValue(resume), progress, config.Error);
            if (results is null) return ExitCodes.Usage;
            var run = new SegmentRun(source, selected, parseResult.GetValue(annotations), parseResult.GetValue(batch),
                parseResult.GetValue(score), parseResult.GetValue(draw), outDir, parseResult.GetValue(explain), parseResult.GetValue(refine),
                PrecisionOption.Parse(parseResult.GetValue(precision)!));
            return Run(run, modelPath, parseResult.GetValue(device)!, results, progress, config.Output, config.Error);
        });
        return command;
    }

    /// <param name="Annotations">The annotation file whose ids the inputs take: by file name, or as the source's own when it lists the inputs (--images).</param>
    /// <param name="Refine">A converted BPR model that refines every mask before it is drawn and written.</param>
    /// <param name="Precision">Of the segmenter's convolutions and fully connected layers (the BPR refiner stays fp32).</param>
    private sealed record SegmentRun(InputSource Source, Shard Shard, string? Annotations, int BatchSize, float? ScoreThreshold, float DrawThreshold, string OutDir, bool Explain,
        string? Refine, InferencePrecision Precision);

    private static int Run(SegmentRun run, string modelPath, string deviceName, SegmentResults resultsPlan, TextWriter output, TextWriter standardOutput, TextWriter error)
    {
        // The header names the architecture: a wrong file fails here, before any image is read.
        string architecture;
        try
        {
            architecture = InstanceSegmenters.Inspect(modelPath);
            if (run.Refine is not null) BprModel.Inspect(run.Refine);
        }
        catch (Exception e) when (e is NotSupportedException or IOException or FormatException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        if (run.Source.ReadsStandardInput && (run.Annotations is not null || run.Shard.Count > 1))
        {
            error.WriteLine(run.Annotations is not null
                ? "error: --annotations matches inputs by file name, and - (standard input) has none"
                : "error: --shard selects inputs by their path, and - (standard input) has none");
            return ExitCodes.Usage;
        }
        AnnotationImageIds? ids = null;
        if (run.Annotations is not null && !run.Source.IsAnnotated)
        {
            try
            {
                ids = new AnnotationImageIds(CocoJson.ReadDataset(run.Annotations), run.Annotations);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
        }
        // Every input of the shard is checked (and matched) before the model loads, so a typo costs no segmenting and writes nothing.
        var counts = Check(run, ids, resultsPlan, error);
        if (counts is null) return ExitCodes.Usage;
        var (total, inShard, todoCount) = counts.Value;
        if (total == 0)
        {
            error.WriteLine($"error: no images to segment in {run.Source.Description}");
            return ExitCodes.Usage;
        }

        var device = DeviceSelector.Select(deviceName, error);
        if (PrecisionOption.Refusal(run.Precision, device) is { } refused)
        {
            error.WriteLine(refused);
            return ExitCodes.Usage;
        }
        var clock = Stopwatch.StartNew();
        using var net = InstanceSegmenters.Open(modelPath, new SegmenterOptions(device, run.ScoreThreshold, run.Precision));
        using var refiner = run.Refine is null ? null : BprModel.Load(run.Refine, device);
        var explainer = net as IMaskExplainer;
        if (run.Explain && explainer is not { CanExplain: true })
        {
            error.WriteLine($"error: --explain needs a model whose masks can be explained (a bilayer head, BCNet's or the default model's experiment, or BlendMask); {modelPath} holds {architecture}");
            return ExitCodes.Usage;
        }
        string sharded = run.Shard.Count > 1 ? $", {inShard} of them in shard {run.Shard}" : "";
        output.WriteLine($"{architecture} on {device}: loaded in {clock.Elapsed.TotalSeconds:F1} s; {total} images{sharded}");
        // Position ids only line up with an annotation file by chance; saying so up front keeps a user from evaluating nonsense.
        output.WriteLine(run.Annotations is not null
            ? $"image ids from {run.Annotations}" + (run.Source.IsAnnotated ? "" : ", matched by file name")
            : "image ids are input positions (1-based); pass --annotations to use COCO ids");
        Directory.CreateDirectory(run.OutDir);
        string explainDir = Path.Combine(run.OutDir, "explain");

        // Ctrl+C and SIGTERM (a scheduler's or a container's stop) finish the batch in flight and still write the
        // results of every finished image, keeping the results lines for --resume.
        bool stop = false;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop = true;
        };
        Console.CancelKeyPress += onCancel;
        using var onTerminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop = true;
        });
        int failed = 0, done = 0;
        int skipped = inShard - todoCount;
        using var results = resultsPlan.Open(standardOutput);
        var segmenting = Stopwatch.StartNew();
        try
        {
            // Inputs stream from the source, decoded on a thread of their own at most one batch ahead of the batch
            // being segmented: decoding overlaps the device's work, and nothing per image is held beyond the two batches.
            using var decoded = new DecodedInputs(ToDo(run, resultsPlan), SegmentInputs.Read, ahead: run.BatchSize);
            foreach (var chunk in decoded.Batches(run.BatchSize))
            {
                if (stop) break;
                var batch = new List<(SegmentInput Input, Image Image)>();
                foreach (var (input, image, problem) in chunk)
                {
                    if (image is not null) batch.Add((input, image));
                    else
                    {
                        error.WriteLine($"skipping {input.Path}: {problem}");
                        failed++;
                    }
                }
                var segmented = run.Explain ? Explain(explainer!, batch, error, ref failed) : Segment(net, device.Pool, batch, error, ref failed);
                foreach (var (input, image, segmentedInstances, explained) in segmented)
                {
                    var instances = refiner is null ? segmentedInstances : RefineCommand.Refine(refiner, image, segmentedInstances);
                    string name = Path.ChangeExtension(input.RelativePath, null), png = Path.Combine(run.OutDir, name + ".png");
                    Directory.CreateDirectory(Path.GetDirectoryName(png)!);
                    Png.Write(png, Overlay.Draw(image, instances, net.CategoryNames, run.DrawThreshold));
                    for (int k = 0; k < explained.Count; k++)
                    {
                        string figure = Path.Combine(explainDir, $"{name}_{k}.png");
                        Directory.CreateDirectory(Path.GetDirectoryName(figure)!);
                        Png.Write(figure, ExplanationFigure.Draw(image, explained[k], net.CategoryNames));
                    }
                    long imageId = input.ImageId ?? ids?.Find(input.Path, TextWriter.Null) ?? input.Position;
                    results.Add(input.Key, imageId, input.FileName, instances);
                    done++;
                    string figures = run.Explain ? $" (+{explained.Count} explain figures)" : "";
                    output.WriteLine($"{ProgressBar.Format(done + failed, todoCount, segmenting.Elapsed)} {input.Path}: {instances.Count} instances -> {png}{figures}");
                }
            }
            results.Complete(interrupted: stop);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        string resumed = skipped > 0 ? $" (+{skipped} finished before)" : "";
        output.WriteLine($"{done} images{resumed}, {results.Records} instances in {clock.Elapsed.TotalSeconds:F1} s -> {resultsPlan.Target}"
            + (stop ? " (interrupted)" : "") + (failed > 0 ? $"; {failed} inputs failed" : ""));
        return stop ? ExitCodes.Interrupted : failed > 0 ? ExitCodes.Failure : ExitCodes.Ok;
    }

    /// <summary>The shard's inputs that the results do not hold yet, streamed in input order.</summary>
    private static IEnumerable<SegmentInput> ToDo(SegmentRun run, SegmentResults results) =>
        run.Source.Enumerate(notes: null).Where(i => run.Shard.Contains(i.RelativePath) && !results.IsFinished(i.Key));

    /// <summary>
    /// One pass over the inputs before anything runs: every list entry and annotation image of the shard must be a
    /// readable image and every input match one annotation id. Null after naming (the first 20 of) the problems.
    /// </summary>
    private static (long Total, int InShard, int ToDo)? Check(SegmentRun run, AnnotationImageIds? ids, SegmentResults results, TextWriter error)
    {
        const int Shown = 20;
        long total = 0;
        int inShard = 0, todo = 0, problems = 0;
        foreach (var input in run.Source.Enumerate(error))
        {
            total++;
            if (!run.Shard.Contains(input.RelativePath)) continue;
            inShard++;
            if (!results.IsFinished(input.Key)) todo++;
            string? problem = InputSource.Problem(input);
            if (problem is not null)
            {
                if (problems++ < Shown) error.WriteLine($"error: {problem}");
                continue;
            }
            if (ids is not null && ids.Find(input.Path, problems < Shown ? error : TextWriter.Null) is null) problems++;
        }
        if (problems > Shown) error.WriteLine($"error: ... and {problems - Shown} more inputs that cannot be segmented");
        return problems > 0 ? null : (total, inShard, todo);
    }

    /// <summary>A batch's results; if the batch fails as a whole, each image is retried alone so one bad image costs only itself.</summary>
    private static List<Segmented> Segment(IInstanceSegmenter net, IMemoryPool pool, List<(SegmentInput Input, Image Image)> images, TextWriter error, ref int failed)
    {
        var done = new List<Segmented>();
        if (images.Count == 0) return done;
        try
        {
            var all = net.Segment(images.Select(i => i.Image).ToList());
            for (int k = 0; k < images.Count; k++) done.Add(new(images[k].Input, images[k].Image, all[k], []));
            return done;
        }
        catch (Exception e) when (images.Count > 1 && IsRecoverable(e))
        {
            error.WriteLine($"batch of {images.Count} failed ({e.Message}); running its images one by one");
            // The failed batch's tensors went back to the pool in batch-sized blocks; hand them to the
            // device so single images start from all of its free memory.
            if (e is DeviceOutOfMemoryException) pool.Trim();
        }
        return OneByOne(images, error, ref failed, image => (net.Segment([image])[0], []));
    }

    /// <summary>Each image with the maps behind its instances.</summary>
    private static List<Segmented> Explain(IMaskExplainer explainer, List<(SegmentInput Input, Image Image)> images, TextWriter error, ref int failed) =>
        OneByOne(images, error, ref failed, image =>
        {
            var explained = explainer.Explain(image);
            return (explained.Select(e => e.Instance).ToList(), explained);
        });

    private static List<Segmented> OneByOne(List<(SegmentInput Input, Image Image)> images, TextWriter error, ref int failed,
        Func<Image, (IReadOnlyList<SegmentedInstance> Instances, IReadOnlyList<ExplainedInstance> Explained)> run)
    {
        var done = new List<Segmented>();
        foreach (var (input, image) in images)
        {
            try
            {
                var (instances, explained) = run(image);
                done.Add(new(input, image, instances, explained));
            }
            catch (Exception e) when (IsRecoverable(e))
            {
                error.WriteLine($"skipping {input.Path}: {e.Message}");
                failed++;
            }
        }
        return done;
    }

    /// <summary>
    /// Whether one image's or batch's failure leaves the process able to go on: anything but host memory
    /// exhaustion, which is fatal. A GPU out of memory is recoverable (it is no OutOfMemoryException).
    /// </summary>
    internal static bool IsRecoverable(Exception e) => e is not OutOfMemoryException;

    private sealed record Segmented(SegmentInput Input, Image Image, IReadOnlyList<SegmentedInstance> Instances, IReadOnlyList<ExplainedInstance> Explained);
}
