using NativeSeg.Cli;
using NativeSeg.Cli.Commands;
using NativeSeg.Cli.Inputs;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Layers;
using NativeSeg.Tests.Models;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `nativeseg segment` end to end on a whole torchvision-layout model with formula weights (backbone from
/// BackboneWeights, heads from the Mask R-CNN fixture's hashed weights), shrunk inputs so it runs on a CPU.
/// </summary>
public class SegmentCommandTests
{
    internal static void WriteModel(string path, string architecture)
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision.safetensors"));
        var heads = HashedWeights.LoadAll(fixture.Metadata, "rpn.", "roi_heads.");
        try
        {
            var all = BackboneWeights.Torchvision.Concat(heads).OrderBy(p => p.Key, StringComparer.Ordinal);
            SafetensorsWriter.Write(path, all, new Dictionary<string, string>
            {
                ["architecture"] = architecture,
                ["config"] = """{"min_size": 96, "max_size": 128, "norm_eps": 1e-5, "score_thresh": 0.2}""",
            });
        }
        finally
        {
            foreach (var t in heads.Values) t.Dispose();
        }
    }

    [Fact]
    public void SegmentsImagesSkipsABadOneAndWritesOverlaysAndCocoResults()
    {
        using var temp = new TempFolder();
        string model = temp.File("model.safetensors");
        WriteModel(model, MaskRcnnArchitectures.Torchvision);
        string images = Path.Combine(temp.Path, "images");
        Directory.CreateDirectory(images);
        File.Copy(FixturePaths.Fixture("exif_o1.jpg"), Path.Combine(images, "a.jpg"));
        File.Copy(FixturePaths.Fixture("palette.png"), Path.Combine(images, "b.png"));
        File.WriteAllText(Path.Combine(images, "broken.jpg"), "not a jpeg");
        string outDir = Path.Combine(temp.Path, "out"), json = temp.File("results.json");

        var (code, output, error) = CliRun.Run("segment", images, "--model", model, "--device", "cpu", "--out", outDir, "--json", json, "--batch", "2");

        Assert.True(code == 1, $"exit {code}\n{output}\n{error}");
        Assert.Contains("broken.jpg", error);
        Assert.Contains("image ids are input positions (1-based); pass --annotations to use COCO ids", output);
        Assert.True(File.Exists(Path.Combine(outDir, "a.png")) && File.Exists(Path.Combine(outDir, "b.png")), output + error);
        Assert.False(File.Exists(json + ".partial"));
        var results = CocoJson.ReadResults(json);
        var a = ImageFile.Read(Path.Combine(images, "a.jpg"));
        var overlay = ImageFile.Read(Path.Combine(outDir, "a.png"));
        Assert.Equal((a.Width, a.Height), (overlay.Width, overlay.Height));
        Assert.NotEmpty(results);
        foreach (var r in results)
        {
            Assert.InRange(r.ImageId, 1, 3);
            Assert.InRange(r.Score ?? -1, 0.2, 1.0);
            Assert.InRange(r.CategoryId, 1, 90);
            var mask = Assert.IsType<RleSegmentation>(r.Segmentation);
            Assert.True(mask.Mask.Height > 0 && mask.Mask.Width > 0);
        }
    }

    /// <summary>A `nativeseg synth` dataset whose image ids are renumbered far from input positions, as real COCO ids often are.</summary>
    private static (string Annotations, Dictionary<string, long> IdByFile) WriteDataset(string folder)
    {
        Assert.Equal(0, CliRun.Run("synth", "--out", folder, "--images", "3", "--size", "96x64", "--seed", "7").Code);
        string path = Path.Combine(folder, "annotations.json");
        var original = CocoJson.ReadDataset(path);
        long[] ids = [1000, 1007, 1042];
        var renumbered = new CocoDataset();
        var newId = new Dictionary<long, long>();
        for (int i = 0; i < original.Images.Count; i++)
        {
            newId[original.Images[i].Id] = ids[i];
            renumbered.Images.Add(original.Images[i] with { Id = ids[i] });
        }
        renumbered.Categories.AddRange(original.Categories);
        // The formula-weight model predicts COCO's 90 category ids; eval refuses results whose category the file lacks.
        for (long c = original.Categories.Count + 1; c <= 90; c++) renumbered.Categories.Add(new(c, $"coco_{c}"));
        foreach (var a in original.Annotations)
        {
            a.ImageId = newId[a.ImageId];
            renumbered.Annotations.Add(a);
        }
        using (var stream = File.Create(path)) CocoJson.WriteDataset(stream, renumbered);
        return (path, renumbered.Images.ToDictionary(i => Path.GetFileName(i.FileName), i => i.Id));
    }

    [Fact]
    public void WithAnnotationsResultsCarryTheAnnotationImageIdsAndEvaluate()
    {
        using var temp = new TempFolder();
        string model = temp.File("model.safetensors");
        WriteModel(model, MaskRcnnArchitectures.Torchvision);
        var (annotations, idByFile) = WriteDataset(temp.File("data"));
        string json = temp.File("results.json");

        var (code, output, error) = CliRun.Run("segment", temp.File("data/images"), "--annotations", annotations,
            "--model", model, "--device", "cpu", "--out", temp.File("out"), "--json", json, "--score-thresh", "0");

        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Contains($"image ids from {annotations}", output);
        Assert.DoesNotContain("input positions", output);
        var results = CocoJson.ReadResults(json);
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.Contains(r.ImageId, idByFile.Values));
        var eval = CliRun.Run("eval", "--annotations", annotations, "--results", json);
        Assert.True(eval.Code == 0, $"exit {eval.Code}\n{eval.Output}\n{eval.Error}");
        Assert.Contains($"{results.Count} results", eval.Output);
    }

    [Fact]
    public void WithAnnotationsAnUnmatchedInputIsAnErrorBeforeAnythingIsWritten()
    {
        using var temp = new TempFolder();
        string model = temp.File("model.safetensors");
        WriteModel(model, MaskRcnnArchitectures.Torchvision);
        var (annotations, _) = WriteDataset(temp.File("data"));
        string stray = temp.File("stray.png"), outDir = temp.File("out"), json = temp.File("results.json");
        File.Copy(temp.File("data/images/000001.png"), stray);

        var (code, output, error) = CliRun.Run("segment", temp.File("data/images"), stray, "--annotations", annotations,
            "--model", model, "--device", "cpu", "--out", outDir, "--json", json);

        Assert.True(code == 2, $"exit {code}\n{output}\n{error}");
        Assert.Contains($"{stray} matches no image", error);
        Assert.DoesNotContain("000001.png", error);
        Assert.False(Directory.Exists(outDir));
        Assert.False(File.Exists(json) || File.Exists(json + ".partial"));
    }

    [Fact]
    public void AnnotationMatchingPrefersTrailingPathComponentsAndFallsBackToAUniqueFileName()
    {
        var dataset = new CocoDataset();
        dataset.Images.AddRange([new(5, 1, 1, "images/a.png"), new(9, 1, 1, "val/images/a.png"), new(12, 1, 1, "other/b.png"),
            new(20, 1, 1, "x/c.png"), new(21, 1, 1, "y/c.png")]);
        var error = new StringWriter();

        var ids = new AnnotationImageIds(dataset, "ann.json");

        Assert.Equal([null, 12, null, null], new[] { "/data/val/images/a.png", "/data/b.png", "/data/d.png", "/data/c.png" }.Select(f => ids.Find(f, error)));
        // "/data/val/images/a.png" ends with both "images/a.png" and "val/images/a.png": ambiguous.
        Assert.Contains("/data/val/images/a.png matches 2 images in ann.json (ids 5, 9)", error.ToString());
        Assert.DoesNotContain("/data/b.png", error.ToString());
        Assert.Contains("/data/d.png matches no image's file_name in ann.json", error.ToString());
        Assert.Contains("/data/c.png matches 2 images in ann.json (ids 20, 21)", error.ToString());
        Assert.Equal(5, ids.Find("/data/train/images/a.png", new StringWriter()));
    }

    [Fact]
    public void RejectsAModelOfAnotherArchitectureBeforeReadingImages()
    {
        using var temp = new TempFolder();
        string model = temp.File("other.safetensors");
        using (var t = Tensor.FromArray(new float[] { 1 }, 1))
            SafetensorsWriter.Write(model, [new("x", t)], new Dictionary<string, string> { ["architecture"] = "bpr-hr18s" });
        File.WriteAllText(temp.File("never-read.jpg"), "not a jpeg: reading it would fail with another message");
        var (code, _, error) = CliRun.Run("segment", temp.File("never-read.jpg"), "--model", model, "--device", "cpu", "--out", temp.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("bpr-hr18s", error);
        Assert.DoesNotContain("never-read", error);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    /// <summary>A batch pads its images as the frameworks do (TorchvisionBatchParityTests), which --help must say.</summary>
    [Fact]
    public void HelpSaysHowABatchIsPaddedAndWhatItChanges()
    {
        var (code, output, _) = CliRun.Run("segment", "--help");
        Assert.Equal(0, code);
        string help = string.Join(' ', output.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("rounded up to 32", help);
        Assert.Contains("can differ slightly from --batch 1", help);
    }
}
