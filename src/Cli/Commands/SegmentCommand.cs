using System.CommandLine;
using System.Diagnostics;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg segment`: runs a converted Mask R-CNN / MS R-CNN on images, writing overlays and COCO results.</summary>
internal static class SegmentCommand
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png"];

    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "images or folders of images (.jpg, .jpeg, .png)", Arity = ArgumentArity.OneOrMore };
        var model = new Option<string?>("--model")
        {
            Description = $"converted .safetensors model (nativeseg convert); default: {DefaultModel.RelativePath}, the small model trained on `nativeseg synth` shapes",
        };
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" };
        var score = new Option<float?>("--score-thresh") { Description = "box score threshold (default: the model's, 0.05)" };
        var output = new Option<string>("--out") { Description = "folder for the overlay PNGs", DefaultValueFactory = _ => "nativeseg-out" };
        var json = new Option<string?>("--json") { Description = "COCO results JSON (default: OUT/results.json)" };
        var batch = new Option<int>("--batch") { Description = "images per forward pass", DefaultValueFactory = _ => 1 };
        var command = new Command("segment", "instance segmentation of images with a Mask R-CNN or MS R-CNN model")
        {
            inputs, model, device, score, output, json, batch,
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
            string outDir = parseResult.GetValue(output)!;
            string? modelPath = parseResult.GetValue(model) ?? DefaultModel.Find();
            if (modelPath is null)
            {
                config.Error.WriteLine($"error: no --model given and no default model at {string.Join(" or ", DefaultModel.Candidates())}");
                return 2;
            }
            return Run(parseResult.GetValue(inputs)!, modelPath, parseResult.GetValue(device)!, parseResult.GetValue(score),
                outDir, parseResult.GetValue(json) ?? Path.Combine(outDir, "results.json"), batchSize, config.Output, config.Error);
        });
        return command;
    }

    private static int Run(string[] inputs, string modelPath, string deviceName, float? scoreThreshold, string outDir, string jsonPath, int batchSize, TextWriter output, TextWriter error)
    {
        // The header names the architecture: a wrong file fails here, before any image is read.
        MaskRcnnSetup setup;
        try
        {
            setup = MaskRcnn.Inspect(modelPath);
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

        var device = DeviceSelector.Select(deviceName, error);
        var clock = Stopwatch.StartNew();
        using var net = MaskRcnn.Load(modelPath, device, scoreThreshold);
        output.WriteLine($"{setup.Architecture} on {device}: loaded in {clock.Elapsed.TotalSeconds:F1} s; {files.Count} images");
        Directory.CreateDirectory(outDir);
        string? jsonDir = Path.GetDirectoryName(Path.GetFullPath(jsonPath));
        if (jsonDir is not null) Directory.CreateDirectory(jsonDir);

        // Ctrl+C finishes the batch in flight and still writes the results of every finished image.
        bool stop = false;
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop = true;
        };
        Console.CancelKeyPress += onCancel;
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
                foreach (var (index, file, image, instances) in Segment(net, images, error, ref failed))
                {
                    string png = Path.Combine(outDir, UniqueName(file, usedNames) + ".png");
                    Png.Write(png, Overlay.Draw(image, instances, setup.CategoryNames));
                    results.Add(index + 1, Path.GetFileName(file), instances);
                    done++;
                    output.WriteLine($"{ProgressBar.Format(done + failed - missing, files.Count, segmenting.Elapsed)} {file}: {instances.Count} instances -> {png}");
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
    private static List<(int, string, Image, IReadOnlyList<MaskRcnnInstance>)> Segment(MaskRcnn net, List<(int Index, string File, Image Image)> images, TextWriter error, ref int failed)
    {
        var done = new List<(int, string, Image, IReadOnlyList<MaskRcnnInstance>)>();
        if (images.Count == 0) return done;
        try
        {
            var all = net.Segment(images.Select(i => i.Image).ToList());
            for (int k = 0; k < images.Count; k++) done.Add((images[k].Index, images[k].File, images[k].Image, all[k]));
            return done;
        }
        catch (Exception e) when (images.Count > 1 && e is not OutOfMemoryException)
        {
            error.WriteLine($"batch of {images.Count} failed ({e.Message}); running its images one by one");
        }
        foreach (var (index, file, image) in images)
        {
            try
            {
                done.Add((index, file, image, net.Segment([image])[0]));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                error.WriteLine($"skipping {file}: {e.Message}");
                failed++;
            }
        }
        return done;
    }

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
