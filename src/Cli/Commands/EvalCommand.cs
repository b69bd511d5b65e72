using System.CommandLine;
using NativeSeg.Cli.Parsing;
using NativeSeg.Cli.Rendering;
using System.Diagnostics;
using NativeSeg.Engine.Formats;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Evaluation;
using NativeSeg.Models.Inference;

namespace NativeSeg.Cli.Commands;

/// <summary>`nativeseg eval`: COCO AP (segm, bbox or Boundary AP) of a results file or a model's predictions.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var annotations = new Option<string>("--annotations") { Description = "COCO instances JSON (ground truth)", Required = true }.ExistingFile();
        var results = new Option<string?>("--results")
        {
            Description = "detections in COCO results format (JSON array), or segment's JSON Lines (a .jsonl file, one line per image)",
        }.ExistingFile();
        var model = new Option<string?>("--model")
        {
            Description = $"model to run on --images instead of reading --results ({DefaultModel.RelativePath} names the default model from any folder)",
        }.ModelFile();
        var images = new Option<string?>("--images") { Description = "folder holding the annotation file's images (with --model)" }.ExistingFolder();
        var iouType = new Option<string>("--iou-type") { Description = "segm, bbox or boundary", DefaultValueFactory = _ => "segm" };
        iouType.AcceptOnlyFromAmong("segm", "bbox", "boundary");
        var json = new Option<string?>("--json") { Description = "also write the numbers to this JSON file" }.OutputFile();
        var command = new Command("eval", "COCO evaluation with pycocotools' semantics, plus Boundary AP and an occlusion breakdown")
        {
            annotations, results, model, images, iouType, json,
        };
        command.SetAction(parseResult =>
        {
            var config = parseResult.InvocationConfiguration;
            string? resultsPath = parseResult.GetValue(results), modelPath = parseResult.GetValue(model), imageDir = parseResult.GetValue(images);
            if ((resultsPath is null) == (modelPath is null))
            {
                config.Error.WriteLine("error: give either --results or --model (with --images)");
                return ExitCodes.Usage;
            }
            if (modelPath is not null && imageDir is null)
            {
                config.Error.WriteLine("error: --model needs --images, the folder of the annotation file's images");
                return ExitCodes.Usage;
            }
            var type = Enum.Parse<IouType>(parseResult.GetValue(iouType)!, ignoreCase: true);
            return Run(parseResult.GetValue(annotations)!, resultsPath, DefaultModel.Resolve(modelPath), imageDir, type, parseResult.GetValue(json), config.Output, config.Error);
        });
        return command;
    }

    private static int Run(string annotationsPath, string? resultsPath, string? modelPath, string? imageDir, IouType type, string? jsonPath,
        TextWriter output, TextWriter error)
    {
        var clock = Stopwatch.StartNew();
        CocoDataset dataset;
        List<CocoAnnotation>? read = null;
        try
        {
            dataset = CocoJson.ReadDataset(annotationsPath);
            if (resultsPath is not null) read = ResultLines.IsLinesFile(resultsPath) ? ReadLines(resultsPath) : CocoJson.ReadResults(resultsPath);
            else InstanceSegmenters.Inspect(modelPath!);
        }
        // A malformed input file is a wrong input, named by the reader: nothing was evaluated.
        catch (Exception e) when (e is FormatException or NotSupportedException)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        WarnAboutOrphans(dataset, error);
        var detections = read ?? Predict(dataset, modelPath!, imageDir!, error);
        double loaded = clock.Elapsed.TotalSeconds;
        EvaluationResult result;
        try
        {
            result = CocoEvaluator.Evaluate(dataset, detections, type);
        }
        // Results that do not fit the annotations (a category the file lacks) are found only while matching them.
        catch (CocoFormatException e)
        {
            error.WriteLine($"error: {e.Message}");
            return ExitCodes.Usage;
        }
        output.WriteLine($"Evaluate annotation type *{type.ToString().ToLowerInvariant()}*: {dataset.Images.Count} images, {dataset.Annotations.Count} annotations, {detections.Count} results");
        output.Write(result.FormatSummary());
        output.WriteLine($"(read {loaded:F2} s, evaluated {clock.Elapsed.TotalSeconds - loaded:F2} s)");
        if (jsonPath is not null) AtomicFile.Write(jsonPath, result.WriteJson);
        return ExitCodes.Ok;
    }

    /// <summary>The detections of segment's JSON Lines; a last line cut off by a kill means the run is unfinished, which is an error.</summary>
    private static List<CocoAnnotation> ReadLines(string path)
    {
        var results = new List<CocoAnnotation>();
        foreach (var entry in ResultLines.Read(path, line => throw new CocoFormatException(
            $"{path}: line {line}, the last, is cut off by an interrupted segment run; finish it with segment --resume first")))
        {
            int k = 0;
            foreach (var record in entry.Results.EnumerateArray()) results.Add(CocoJson.ReadResult(record, $"{path}: line {entry.Line}, result [{k++}]"));
        }
        return results;
    }

    /// <summary>
    /// The evaluator ignores ground truth on images or categories the file does not list, as pycocotools
    /// does; say so, since such annotations usually mean a broken or mismatched file.
    /// </summary>
    private static void WarnAboutOrphans(CocoDataset dataset, TextWriter error)
    {
        var imageIds = dataset.Images.Select(i => i.Id).ToHashSet();
        var categoryIds = dataset.Categories.Select(c => c.Id).ToHashSet();
        var noImage = dataset.Annotations.Where(a => !imageIds.Contains(a.ImageId)).ToList();
        if (noImage.Count > 0)
            error.WriteLine($"warning: {noImage.Count} annotations refer to unknown image ids (e.g. annotation {noImage[0].Id} → image {noImage[0].ImageId}); they are ignored");
        var noCategory = dataset.Annotations.Where(a => !categoryIds.Contains(a.CategoryId)).ToList();
        if (noCategory.Count > 0)
            error.WriteLine($"warning: {noCategory.Count} annotations refer to unknown category ids (e.g. annotation {noCategory[0].Id} → category {noCategory[0].CategoryId}); they are ignored");
    }

    /// <summary>A model trained on other categories scores zero on those it lacks; warn rather than let the AP alone say it.</summary>
    private static void WarnAboutCategories(CocoDataset dataset, IInstanceSegmenter segmenter, TextWriter error)
    {
        // Models without their own names predict COCO's 80 categories.
        var modelIds = segmenter.CategoryNames?.Keys.ToHashSet() ?? [.. Models.Detection.DetectorConfig.Coco80];
        var missing = dataset.Categories.Where(c => !modelIds.Contains(c.Id)).ToList();
        if (missing.Count > 0)
            error.WriteLine($"warning: the model has no category for {missing.Count} of the {dataset.Categories.Count} annotation categories "
                + $"(e.g. category {missing[0].Id} '{missing[0].Name}'); they get no detections");
    }

    private static List<CocoAnnotation> Predict(CocoDataset dataset, string modelPath, string imageDir, TextWriter error)
    {
        using var segmenter = InstanceSegmenters.Open(modelPath);
        WarnAboutCategories(dataset, segmenter, error);
        var results = new List<CocoAnnotation>();
        foreach (var image in dataset.Images)
        {
            var pixels = ImageFile.Read(Path.Combine(imageDir, image.FileName));
            results.AddRange(segmenter.Predict(pixels).Select(p => ToResult(image.Id, p)));
        }
        return results;
    }

    /// <summary>
    /// A prediction as the results record `segment --json` writes for it, box included: CocoEvaluator takes
    /// areas from the field the evaluation type reads, so evaluating here and from that file agree.
    /// </summary>
    internal static CocoAnnotation ToResult(long imageId, InstancePrediction p) => new()
    {
        ImageId = imageId, CategoryId = p.CategoryId, Score = p.Score, Segmentation = new RleSegmentation(p.Mask), Box = p.Box,
    };
}
