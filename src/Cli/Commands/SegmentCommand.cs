using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using NativeSeg.Cli.Parsing;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Cuda;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Memory;
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
            Arity = ArgumentArity.OneOrMore,
        };
        inputs.Validators.Add(SegmentInputs.Validate);
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
        var output = new Option<string>("--out") { Description = "folder for the overlay PNGs", DefaultValueFactory = _ => "nativeseg-out" }.OutputFolder();
        var json = new Option<string?>("--json")
        {
            Description = "COCO results JSON (default: OUT/results.json; - writes it to standard output and the progress to standard error); "
                + "its image_id is the input's position (1-based, folders expanded in path order) unless --annotations is given. "
                + "Each finished image is first appended to FILE.partial as one line {\"input\": FULL_PATH, \"results\": [records]}; "
                + "FILE is written from it at the end",
        }.OutputFile(allowStdout: true);
        var annotations = new Option<string?>("--annotations")
        {
            Description = "COCO annotation file whose image ids the results use, matched by file_name against each input path's trailing components (or its bare file name when unique); an input that matches none or several is an error before anything runs",
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
            Description = "continue a run that was killed: keep the images finished in FILE.partial (a last line cut off by the kill is dropped), "
                + "segment only the others and write FILE; without it an existing FILE.partial is an error",
        };
        var explain = new Option<bool>("--explain")
        {
            Description = "BCNet and bilayer models: also write OUT/explain/IMAGE_K.png per instance with its occluder and occludee mask and boundary heatmaps; BlendMask: its four pooled bases, their attentions and the blended mask",
        };
        var refine = new Option<string?>("--refine")
        {
            Description = "converted BPR model (bpr-hr18s or bpr-hr48): refine every mask along its boundary before it is drawn and written, as `nativeseg refine` does",
        }.ModelFile();
        var command = new Command("segment", "instance segmentation of images with a converted Mask R-CNN, MS R-CNN or BCNet model")
        {
            inputs, model, device, score, draw, output, json, annotations, batch, explain, resume, refine,
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
            string jsonPath = parseResult.GetValue(json) ?? Path.Combine(outDir, "results.json");
            // With the results on standard output, everything else goes to standard error.
            var progress = jsonPath == StandardStreams.Name ? config.Error : config.Output;
            var results = SegmentResults.Plan(jsonPath, parseResult.GetValue(resume), progress, config.Error);
            if (results is null) return ExitCodes.Usage;
            return Run(parseResult.GetValue(inputs)!, modelPath, parseResult.GetValue(device)!, parseResult.GetValue(score), parseResult.GetValue(draw),
                outDir, results, parseResult.GetValue(annotations), parseResult.GetValue(batch),
                parseResult.GetValue(explain), parseResult.GetValue(refine), progress, config.Output, config.Error);
        });
        return command;
    }

    private static int Run(string[] inputs, string modelPath, string deviceName, float? scoreThreshold, float drawThreshold, string outDir, SegmentResults resultsPlan,
        string? annotationsPath, int batchSize, bool explain, string? refinePath, TextWriter output, TextWriter standardOutput, TextWriter error)
    {
        // The header names the architecture: a wrong file fails here, before any image is read.
        string architecture;
        try
        {
            architecture = InstanceSegmenters.Inspect(modelPath);
            if (refinePath is not null) BprModel.Inspect(refinePath);
        }
        catch (Exception e) when (e is NotSupportedException or IOException or FormatException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        var files = SegmentInputs.Expand(inputs, error);
        if (files.Count == 0)
        {
            error.WriteLine($"error: no images to segment in {string.Join(", ", inputs)}");
            return ExitCodes.Usage;
        }
        if (annotationsPath is not null && inputs.Contains(StandardStreams.Name))
        {
            error.WriteLine("error: --annotations matches inputs by file name, and - (standard input) has none");
            return ExitCodes.Usage;
        }
        // Every input is matched before the model loads, so a typo costs no segmenting and writes nothing.
        Dictionary<string, long>? imageIds = null;
        if (annotationsPath is not null)
        {
            try
            {
                imageIds = AnnotationImageIds.Match(files, CocoJson.ReadDataset(annotationsPath), annotationsPath, error);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
            if (imageIds is null) return ExitCodes.Usage;
        }

        var device = DeviceSelector.Select(deviceName, error);
        var clock = Stopwatch.StartNew();
        using var net = InstanceSegmenters.Open(modelPath, new SegmenterOptions(device, scoreThreshold));
        using var refiner = refinePath is null ? null : BprModel.Load(refinePath, device);
        var explainer = net as IMaskExplainer;
        if (explain && explainer is not { CanExplain: true })
        {
            error.WriteLine($"error: --explain needs a model whose masks can be explained (a bilayer head, BCNet's or the default model's experiment, or BlendMask); {modelPath} holds {architecture}");
            return ExitCodes.Usage;
        }
        output.WriteLine($"{architecture} on {device}: loaded in {clock.Elapsed.TotalSeconds:F1} s; {files.Count} images");
        // Position ids only line up with an annotation file by chance; saying so up front keeps a user from evaluating nonsense.
        output.WriteLine(imageIds is null
            ? "image ids are input positions (1-based); pass --annotations to use COCO ids"
            : $"image ids from {annotationsPath}, matched by file name");
        Directory.CreateDirectory(outDir);
        string explainDir = Path.Combine(outDir, "explain");
        if (explain) Directory.CreateDirectory(explainDir);

        // Ctrl+C and SIGTERM (a scheduler's or a container's stop) finish the batch in flight and still write the
        // results of every finished image, keeping FILE.partial for --resume.
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
        // Names are given in input order over every input, resumed or not, so a resumed run names its overlays as the first run would have.
        var names = OverlayNames(files);
        var todo = Enumerable.Range(0, files.Count).Where(i => !resultsPlan.IsFinished(files[i])).ToList();
        int skipped = files.Count - todo.Count;
        using var results = resultsPlan.Open(standardOutput);
        var segmenting = Stopwatch.StartNew();
        try
        {
            for (int start = 0; start < todo.Count && !stop; start += batchSize)
            {
                var images = new List<(int Index, string File, Image Image)>();
                foreach (int i in todo.Skip(start).Take(batchSize))
                {
                    try
                    {
                        images.Add((i, files[i], SegmentInputs.Read(files[i])));
                    }
                    catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or NotSupportedException)
                    {
                        error.WriteLine($"skipping {files[i]}: {e.Message}");
                        failed++;
                    }
                }
                var segmented = explain ? Explain(explainer!, images, error, ref failed) : Segment(net, device.Pool, images, error, ref failed);
                foreach (var (index, file, image, segmentedInstances, explained) in segmented)
                {
                    var instances = refiner is null ? segmentedInstances : RefineCommand.Refine(refiner, image, segmentedInstances);
                    string name = names[index], png = Path.Combine(outDir, name + ".png");
                    Png.Write(png, Overlay.Draw(image, instances, net.CategoryNames, drawThreshold));
                    for (int k = 0; k < explained.Count; k++)
                        Png.Write(Path.Combine(explainDir, $"{name}_{k}.png"), ExplanationFigure.Draw(image, explained[k], net.CategoryNames));
                    results.Add(SegmentInputs.Key(file), imageIds?[file] ?? index + 1, SegmentInputs.FileName(file), instances);
                    done++;
                    string figures = explain ? $" (+{explained.Count} explain figures)" : "";
                    output.WriteLine($"{ProgressBar.Format(done + failed, todo.Count, segmenting.Elapsed)} {file}: {instances.Count} instances -> {png}{figures}");
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

    /// <summary>A batch's results; if the batch fails as a whole, each image is retried alone so one bad image costs only itself.</summary>
    private static List<Segmented> Segment(IInstanceSegmenter net, IMemoryPool pool, List<(int Index, string File, Image Image)> images, TextWriter error, ref int failed)
    {
        var done = new List<Segmented>();
        if (images.Count == 0) return done;
        try
        {
            var all = net.Segment(images.Select(i => i.Image).ToList());
            for (int k = 0; k < images.Count; k++) done.Add(new(images[k].Index, images[k].File, images[k].Image, all[k], []));
            return done;
        }
        catch (Exception e) when (images.Count > 1 && IsRecoverable(e))
        {
            error.WriteLine($"batch of {images.Count} failed ({e.Message}); running its images one by one");
            // The failed batch's tensors went back to the pool in batch-sized blocks; hand them to the
            // device so single images start from all of its free memory.
            if (e is DeviceOutOfMemoryException) pool.Trim();
        }
        return OneByOne(images, error, ref failed, image => new(-1, "", image, net.Segment([image])[0], []));
    }

    /// <summary>Each image with the bilayer maps behind its instances.</summary>
    private static List<Segmented> Explain(IMaskExplainer explainer, List<(int Index, string File, Image Image)> images, TextWriter error, ref int failed) =>
        OneByOne(images, error, ref failed, image =>
        {
            var explained = explainer.Explain(image);
            return new(-1, "", image, explained.Select(e => e.Instance).ToList(), explained);
        });

    private static List<Segmented> OneByOne(List<(int Index, string File, Image Image)> images, TextWriter error, ref int failed, Func<Image, Segmented> run)
    {
        var done = new List<Segmented>();
        foreach (var (index, file, image) in images)
        {
            try
            {
                done.Add(run(image) with { Index = index, File = file });
            }
            catch (Exception e) when (IsRecoverable(e))
            {
                error.WriteLine($"skipping {file}: {e.Message}");
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

    private sealed record Segmented(int Index, string File, Image Image, IReadOnlyList<SegmentedInstance> Instances, IReadOnlyList<ExplainedInstance> Explained);

    /// <summary>Each input's overlay name: the file's stem, suffixed when two inputs from different folders share it.</summary>
    private static string[] OverlayNames(List<string> files)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        return files.Select(file =>
        {
            string stem = Path.GetFileNameWithoutExtension(SegmentInputs.FileName(file)), name = stem;
            for (int k = 2; !used.Add(name); k++) name = $"{stem}_{k}";
            return name;
        }).ToArray();
    }
}
