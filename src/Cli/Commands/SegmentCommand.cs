using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Cuda;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Memory;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg segment`: runs a converted model on images, writing overlays and COCO results (and, for bilayer models, explain figures).</summary>
internal static class SegmentCommand
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png"];

    public static Command Create()
    {
        var limits = ImageLimits.Default;
        var inputs = new Argument<string[]>("inputs")
        {
            Description = $"images or folders of images (.jpg, .jpeg, .png), each at most {limits.MaxPixels:N0} pixels and {limits.MaxSide} a side (checked from the file header)",
            Arity = ArgumentArity.OneOrMore,
        };
        var model = new Option<string?>("--model")
        {
            Description = $"converted .safetensors model (nativeseg convert); default: {DefaultModel.RelativePath}, the small model trained on `nativeseg synth` shapes",
        };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" };
        var score = new Option<float?>("--score-thresh") { Description = "box score threshold of the results (default: the model's, 0.05)" };
        var draw = new Option<float>("--draw-thresh")
        {
            Description = "score from which instances are drawn on the overlays; the results JSON keeps every instance above --score-thresh",
            DefaultValueFactory = _ => Overlay.DefaultDrawThreshold,
        };
        var output = new Option<string>("--out") { Description = "folder for the overlay PNGs", DefaultValueFactory = _ => "nativeseg-out" };
        var json = new Option<string?>("--json")
        {
            Description = "COCO results JSON (default: OUT/results.json); its image_id is the input's position (1-based, folders expanded in name order) unless --annotations is given",
        };
        var annotations = new Option<string?>("--annotations")
        {
            Description = "COCO annotation file whose image ids the results use, matched by file_name against each input path's trailing components (or its bare file name when unique); an input that matches none or several is an error before anything runs",
        };
        var batch = new Option<int>("--batch")
        {
            Description = "images per forward pass (default 1); a batch pads every image with zeros to its largest height and width, rounded up to 32, "
                + "as torchvision and detectron2 batch images, and the network sees that padding: detections near an image's bottom and right edges "
                + "are those the framework gives for the same batch and can differ slightly from --batch 1, which matches a run of each image alone",
            DefaultValueFactory = _ => 1,
        };
        var explain = new Option<bool>("--explain")
        {
            Description = "BCNet models: also write OUT/explain/IMAGE_K.png per instance with its occluder and occludee mask and boundary heatmaps",
        };
        var command = new Command("segment", "instance segmentation of images with a converted Mask R-CNN, MS R-CNN or BCNet model")
        {
            inputs, model, device, score, draw, output, json, annotations, batch, explain,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            int batchSize = parseResult.GetValue(batch);
            if (batchSize < 1)
            {
                config.Error.WriteLine($"error: --batch must be at least 1, got {batchSize}");
                return 2;
            }
            float drawThreshold = parseResult.GetValue(draw);
            if (!(drawThreshold is >= 0 and <= 1))
            {
                config.Error.WriteLine($"error: --draw-thresh must be between 0 and 1, got {drawThreshold}");
                return 2;
            }
            string outDir = parseResult.GetValue(output)!;
            string? modelPath = parseResult.GetValue(model) ?? DefaultModel.Find();
            if (modelPath is null)
            {
                config.Error.WriteLine($"error: no --model given and no default model at {string.Join(" or ", DefaultModel.Candidates())}");
                return 2;
            }
            return Run(parseResult.GetValue(inputs)!, modelPath, parseResult.GetValue(device)!, parseResult.GetValue(score), drawThreshold,
                outDir, parseResult.GetValue(json) ?? Path.Combine(outDir, "results.json"), parseResult.GetValue(annotations), batchSize,
                parseResult.GetValue(explain), config.Output, config.Error);
        });
        return command;
    }

    private static int Run(string[] inputs, string modelPath, string deviceName, float? scoreThreshold, float drawThreshold, string outDir, string jsonPath,
        string? annotationsPath, int batchSize, bool explain, TextWriter output, TextWriter error)
    {
        // The header names the architecture: a wrong file fails here, before any image is read.
        string architecture;
        try
        {
            architecture = InstanceSegmenters.Inspect(modelPath);
        }
        catch (Exception e) when (e is NotSupportedException or IOException or FormatException)
        {
            error.WriteLine($"error: {e.Message}");
            return 2;
        }
        var files = Expand(inputs, error, out int missing);
        if (files.Count == 0)
        {
            error.WriteLine("error: no images to segment");
            return 2;
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
                return 2;
            }
            if (imageIds is null) return 2;
        }

        var device = DeviceSelector.Select(deviceName, error);
        var clock = Stopwatch.StartNew();
        using var net = InstanceSegmenters.Open(modelPath, new SegmenterOptions(device, scoreThreshold));
        var explainer = net as IOcclusionExplainer;
        if (explain && explainer is not { CanExplain: true })
        {
            error.WriteLine($"error: --explain needs a model with a bilayer mask head (BCNet); {modelPath} holds {architecture}");
            return 2;
        }
        output.WriteLine($"{architecture} on {device}: loaded in {clock.Elapsed.TotalSeconds:F1} s; {files.Count} images");
        // Position ids only line up with an annotation file by chance; saying so up front keeps a user from evaluating nonsense.
        output.WriteLine(imageIds is null
            ? "image ids are input positions (1-based); pass --annotations to use COCO ids"
            : $"image ids from {annotationsPath}, matched by file name");
        Directory.CreateDirectory(outDir);
        string explainDir = Path.Combine(outDir, "explain");
        if (explain) Directory.CreateDirectory(explainDir);
        string? jsonDir = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
        if (jsonDir is not null) Directory.CreateDirectory(jsonDir);

        // Ctrl+C and SIGTERM (a scheduler's or a container's stop) finish the batch in flight and still write the
        // results of every finished image.
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
        int failed = missing, done = 0;
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        using var results = new CocoResultsWriter(jsonPath);
        var segmenting = Stopwatch.StartNew();
        try
        {
            for (int start = 0; start < files.Count && !stop; start += batchSize)
            {
                var images = new List<(int Index, string File, Image Image)>();
                for (int i = start; i < Math.Min(start + batchSize, files.Count); i++)
                {
                    try
                    {
                        images.Add((i, files[i], ImageFile.Read(files[i])));
                    }
                    catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or NotSupportedException)
                    {
                        error.WriteLine($"skipping {files[i]}: {e.Message}");
                        failed++;
                    }
                }
                var segmented = explain ? Explain(explainer!, images, error, ref failed) : Segment(net, device.Pool, images, error, ref failed);
                foreach (var (index, file, image, instances, explained) in segmented)
                {
                    string name = UniqueName(file, usedNames), png = Path.Combine(outDir, name + ".png");
                    Png.Write(png, Overlay.Draw(image, instances, net.CategoryNames, drawThreshold));
                    for (int k = 0; k < explained.Count; k++)
                        Png.Write(Path.Combine(explainDir, $"{name}_{k}.png"), OcclusionFigure.Draw(image, explained[k], net.CategoryNames));
                    results.Add(imageIds?[file] ?? index + 1, Path.GetFileName(file), instances);
                    done++;
                    string figures = explain ? $" (+{explained.Count} explain figures)" : "";
                    output.WriteLine($"{ProgressBar.Format(done + failed - missing, files.Count, segmenting.Elapsed)} {file}: {instances.Count} instances -> {png}{figures}");
                }
            }
            results.Complete();
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        output.WriteLine($"{done} images, {results.Records} instances in {clock.Elapsed.TotalSeconds:F1} s -> {jsonPath}"
            + (stop ? " (interrupted)" : "") + (failed > 0 ? $"; {failed} inputs failed" : ""));
        return failed > 0 || stop ? 1 : 0;
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
    private static List<Segmented> Explain(IOcclusionExplainer explainer, List<(int Index, string File, Image Image)> images, TextWriter error, ref int failed) =>
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

    private static List<string> Expand(string[] inputs, TextWriter error, out int missing)
    {
        var files = new List<string>();
        missing = 0;
        foreach (string input in inputs)
        {
            if (Directory.Exists(input))
                files.AddRange(Directory.EnumerateFiles(input)
                    .Where(f => ImageExtensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                    .Order(StringComparer.Ordinal));
            else if (File.Exists(input)) files.Add(input);
            else
            {
                error.WriteLine($"skipping {input}: no such file or folder");
                missing++;
            }
        }
        return files;
    }

    /// <summary>The file's stem, suffixed when two inputs from different folders share it.</summary>
    private static string UniqueName(string file, HashSet<string> used)
    {
        string stem = Path.GetFileNameWithoutExtension(file), name = stem;
        for (int k = 2; !used.Add(name); k++) name = $"{stem}_{k}";
        return name;
    }
}
