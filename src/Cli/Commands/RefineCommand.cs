using System.CommandLine;
using System.Diagnostics;
using NativeSeg.Cli.Inputs;
using NativeSeg.Cli.Parsing;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Bpr;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg refine`: BPR boundary patch refinement of any COCO results file's masks.</summary>
internal static class RefineCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs")
        {
            Description = "the images the results are for (.jpg, .jpeg, .png), or folders searched recursively in path order",
            Arity = ArgumentArity.OneOrMore,
        };
        inputs.Validators.Add(SegmentInputs.Validate);
        var results = new Option<string>("--results")
        {
            Description = "COCO results JSON with the coarse masks (from NativeSeg or any other framework); its image_id is the input's position "
                + "(1-based, folders expanded in path order) unless --annotations is given",
            Required = true,
        }.ExistingFile();
        var model = new Option<string>("--model") { Description = "converted BPR model (bpr-hr18s or bpr-hr48, from `nativeseg convert`)", Required = true }.ModelFile();
        var json = new Option<string>("--json") { Description = "where to write the results with refined masks (the same records otherwise)", Required = true }.OutputFile();
        var device = new Option<string>("--device") { Description = "auto, cpu, cuda or cuda:N", DefaultValueFactory = _ => "auto" }.Device();
        var output = new Option<string?>("--out") { Description = "folder for figures: each image with the coarse boundaries (left) and the refined ones (right)" }.OutputFolder();
        var annotations = new Option<string?>("--annotations")
        {
            Description = "COCO annotation file whose image ids the results use, matched by file_name against each input path",
        }.ExistingFile();
        var command = new Command("refine", "refine the masks of a COCO results file along their boundaries with a BPR model")
        {
            inputs, results, model, json, device, output, annotations,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            return Run(parseResult.GetValue(inputs)!, parseResult.GetValue(results)!, parseResult.GetValue(model)!, parseResult.GetValue(json)!,
                parseResult.GetValue(device)!, parseResult.GetValue(output), parseResult.GetValue(annotations), config.Output, config.Error);
        });
        return command;
    }

    /// <summary>The instances with refined masks (box, scores and category unchanged, as upstream's merge keeps them).</summary>
    internal static IReadOnlyList<SegmentedInstance> Refine(BprModel model, Image image, IReadOnlyList<SegmentedInstance> instances)
    {
        var (refined, _) = model.Refine(image.ToRgb(), instances.Select(i => i.Mask).ToList());
        return instances.Select((instance, k) => instance with { Mask = refined[k] }).ToList();
    }

    private static int Run(string[] inputs, string resultsPath, string modelPath, string jsonPath, string deviceName, string? outDir,
        string? annotationsPath, TextWriter output, TextWriter error)
    {
        List<CocoAnnotation> coarse;
        Dictionary<string, long>? imageIds = null;
        List<string> files;
        try
        {
            BprModel.Inspect(modelPath);
            if (inputs.Contains(StandardStreams.Name)) throw new ArgumentException("refine reads images from files; - (standard input) is not supported");
            var source = InputSource.Create(inputs, null, null, null, error);
            if (source is null) return ExitCodes.Usage;
            files = [.. source.Enumerate(error).Select(i => i.Path)];
            if (files.Count == 0) throw new ArgumentException($"no images in {string.Join(", ", inputs)}");
            coarse = CocoJson.ReadResults(resultsPath);
            if (annotationsPath is not null)
            {
                var index = new AnnotationImageIds(CocoJson.ReadDataset(annotationsPath), annotationsPath);
                imageIds = new Dictionary<string, long>(StringComparer.Ordinal);
                foreach (string file in files)
                {
                    if (index.Find(file, error) is not { } id) return ExitCodes.Usage;
                    imageIds[file] = id;
                }
            }
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or IOException or UnauthorizedAccessException or FormatException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        var idOf = files.Select((file, i) => (file, id: imageIds?[file] ?? i + 1)).ToDictionary(p => p.id, p => p.file);
        var byImage = coarse.GroupBy(r => r.ImageId).ToDictionary(g => g.Key, g => g.ToList());
        var unknown = byImage.Keys.Where(id => !idOf.ContainsKey(id)).Order().ToList();
        if (unknown.Count > 0)
        {
            string ids = imageIds is null ? $"input positions 1..{files.Count}; pass --annotations to use COCO ids" : $"from {annotationsPath}";
            error.WriteLine($"error: {resultsPath} has results for image_id {string.Join(", ", unknown.Take(5))}, which none of the {files.Count} images given has (ids are {ids})");
            return ExitCodes.Usage;
        }

        var device = DeviceSelector.Select(deviceName, error);
        var clock = Stopwatch.StartNew();
        using var bpr = BprModel.Load(modelPath, device);
        output.WriteLine($"{bpr.Architecture} on {device}: loaded in {clock.Elapsed.TotalSeconds:F1} s; {files.Count} images, {coarse.Count} results");
        if (outDir is not null) Directory.CreateDirectory(outDir);
        var refinedOf = new Dictionary<CocoAnnotation, Rle>(ReferenceEqualityComparer.Instance);
        var stages = new StageClock(device);
        foreach (var (id, file) in idOf)
        {
            if (!byImage.TryGetValue(id, out var records)) continue;
            Image image;
            List<Rle> masks;
            try
            {
                image = ImageFile.Read(file).ToRgb();
                masks = records.Select(r => MaskOf(r, file, resultsPath, image)).ToList();
            }
            catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                error.WriteLine($"error: {e.Message}");
                return ExitCodes.Usage;
            }
            stages.Restart();
            var (refined, patches) = bpr.Refine(image, masks, stages);
            for (int k = 0; k < records.Count; k++) refinedOf[records[k]] = refined[k];
            if (outDir is not null)
            {
                string png = Path.Combine(outDir, Path.GetFileNameWithoutExtension(file) + ".png");
                Png.Write(png, RefinementFigure.Draw(image, records.Select((r, k) => (r.CategoryId, masks[k], refined[k])).ToList()));
            }
            long moved = Enumerable.Range(0, masks.Count).Sum(k => masks[k].Area + refined[k].Area - 2 * Rle.Intersection(masks[k], refined[k]));
            var ms = stages.Laps.ToDictionary(l => l.Stage, l => l.Milliseconds);
            double network = ms.GetValueOrDefault(BoundaryRefiner.NetworkStage);
            output.WriteLine($"{file}: {records.Count} masks, {patches} patches, {moved} pixels changed; "
                + $"extract {ms.GetValueOrDefault(BoundaryRefiner.ExtractStage):F0} ms, network {network:F0} ms"
                + (patches > 0 ? $" ({patches / (network / 1000):F1} patches/s)" : "")
                + $", reassemble {ms.GetValueOrDefault(BoundaryRefiner.ReassembleStage):F0} ms");
        }
        AtomicFile.Write(jsonPath, stream => CocoJson.WriteResults(stream, coarse.Select(r => Refined(r, refinedOf))));
        output.WriteLine($"{coarse.Count} results in {clock.Elapsed.TotalSeconds:F1} s -> {jsonPath}");
        return ExitCodes.Ok;
    }

    /// <summary>A result's coarse mask, which must have the image's size.</summary>
    private static Rle MaskOf(CocoAnnotation result, string file, string resultsPath, Image image)
    {
        if (result.Segmentation is not RleSegmentation { Mask: var mask })
        {
            return result.Segmentation?.ToRle(image.Height, image.Width)
                ?? throw new FormatException($"{resultsPath}: a result for image_id {result.ImageId} ({file}) has no segmentation to refine");
        }
        if (mask.Height != image.Height || mask.Width != image.Width)
        {
            throw new ArgumentException($"{file} is {image.Width}x{image.Height}, but {resultsPath} has a mask of {mask.Width}x{mask.Height} "
                + $"for its image_id {result.ImageId}: the results are not for this image");
        }
        return mask;
    }

    private static CocoAnnotation Refined(CocoAnnotation result, Dictionary<CocoAnnotation, Rle> refinedOf)
    {
        if (!refinedOf.TryGetValue(result, out var mask)) return result;
        bool compressed = result.Segmentation is not RleSegmentation { Compressed: false };
        return new CocoAnnotation
        {
            Id = result.Id,
            ImageId = result.ImageId,
            CategoryId = result.CategoryId,
            Segmentation = new RleSegmentation(mask, compressed),
            Area = result.Area is null ? null : mask.Area,
            Box = result.Box,
            IsCrowd = result.IsCrowd,
            Score = result.Score,
        };
    }
}
