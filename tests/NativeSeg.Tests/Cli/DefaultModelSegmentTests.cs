using NativeSeg.Cli;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Synthetic;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `nativeseg segment` without --model: the shipped weights/default.safetensors on a fresh synthetic image
/// (a seed the model was neither trained nor evaluated on) finds the shapes drawn there.
/// </summary>
public class DefaultModelSegmentTests
{
    [Fact]
    public void SegmentsASyntheticImageWithTheDefaultModel()
    {
        using var temp = new TempFolder();
        var options = new SyntheticOptions(1, 256, 256, 6, 6, Seed: 12345);
        var generated = SyntheticDataset.Generate(options, 0);
        string png = temp.File("shapes.png"), outDir = temp.File("out");
        Png.Write(png, new Image(256, 256, 3, generated.Rgb));

        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.Run(["segment", png, "--device", "cpu", "--out", outDir], output, error);

        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Contains("maskrcnn_resnet18_fpn_torchvision", output.ToString());
        Assert.True(File.Exists(Path.Combine(outDir, "shapes.png")));
        var results = CocoJson.ReadResults(Path.Combine(outDir, "results.json"));
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.InRange(r.CategoryId, 1, 6));
        // The most confident detection must be one of the drawn shapes, of its class, mask IoU above 0.5.
        var best = results.MaxBy(r => r.Score ?? 0)!;
        var mask = Assert.IsType<RleSegmentation>(best.Segmentation).Mask;
        Assert.Contains(generated.Instances, i => i.Category + 1 == best.CategoryId && Rle.Iou(mask, i.Visible, false) > 0.5);
    }
}
