using NativeSeg.Cli;
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

    [Fact]
    public void RejectsAModelOfAnotherArchitectureBeforeReadingImages()
    {
        using var temp = new TempFolder();
        string model = temp.File("other.safetensors");
        using (var t = Tensor.FromArray(new float[] { 1 }, 1))
            SafetensorsWriter.Write(model, [new("x", t)], new Dictionary<string, string> { ["architecture"] = "bpr_hr18s" });
        var (code, _, error) = CliRun.Run("segment", temp.File("never-read.jpg"), "--model", model, "--device", "cpu", "--out", temp.File("out"));
        Assert.Equal(2, code);
        Assert.Contains("bpr_hr18s", error);
        Assert.DoesNotContain("never-read", error);
        Assert.False(Directory.Exists(temp.File("out")));
    }
}
