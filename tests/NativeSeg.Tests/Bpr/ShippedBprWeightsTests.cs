using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Tests.Cli;
using NativeSeg.Tests.Formats;
using Xunit.Abstractions;

namespace NativeSeg.Tests.Bpr;

/// <summary>
/// The shipped weights/bpr-hr18s.safetensors doing what it was trained for: `refine` over the default model's masks
/// (score ≥ 0.5) of synthetic images it has not seen brings them closer to the ground truth. About 15 s on the CPU.
/// </summary>
public class ShippedBprWeightsTests(ITestOutputHelper output)
{
    [Fact]
    public void RefineBringsTheDefaultModelsMasksCloserToTheTruth()
    {
        using var temp = new TempFolder();
        string data = temp.File("data");
        Assert.Equal(0, CliRun.Run("synth", "--out", data, "--images", "3", "--seed", "33", "--size", "256x256", "--classes", "6", "--instances", "6").Code);
        string annotations = Path.Combine(data, "annotations.json"), coarse = temp.File("coarse.json"), refined = temp.File("refined.json");
        var segmented = CliRun.Run("segment", "--annotations", annotations, "--images", data, "--score-thresh", "0.5", "--device", "cpu",
            "--out", temp.File("out"), "--json", coarse);
        Assert.True(segmented.Code == 0, segmented.Error);
        var refine = CliRun.Run("refine", Path.Combine(data, "images"), "--annotations", annotations, "--results", coarse,
            "--model", ShippedWeights(), "--json", refined, "--device", "cpu");
        Assert.True(refine.Code == 0, refine.Error);

        var truth = CocoJson.ReadDataset(annotations);
        double before = MeanBestIou(truth, CocoJson.ReadResults(coarse)), after = MeanBestIou(truth, CocoJson.ReadResults(refined));
        output.WriteLine(refine.Output);
        output.WriteLine($"mean IoU of each result with its best-matching instance: {before:F4} coarse, {after:F4} refined");
        Assert.True(after > before + 0.005, $"refined masks are not closer to the truth: mean IoU {before:F4} -> {after:F4}");
    }

    private static double MeanBestIou(CocoDataset truth, List<CocoAnnotation> results)
    {
        var sizes = truth.Images.ToDictionary(i => i.Id, i => (i.Height, i.Width));
        return results.Average(r =>
        {
            var (h, w) = sizes[r.ImageId];
            var mask = r.Segmentation!.ToRle(h, w);
            return truth.Annotations.Where(a => a.ImageId == r.ImageId && a.CategoryId == r.CategoryId)
                .Select(a => Rle.Iou(mask, a.Segmentation!.ToRle(h, w), crowd: false)).DefaultIfEmpty(0).Max();
        });
    }

    /// <summary>weights/bpr-hr18s.safetensors of the checkout the tests were built in (the solution file marks its root).</summary>
    private static string ShippedWeights()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeSeg.sln"))) return Path.Combine(dir.FullName, "weights", "bpr-hr18s.safetensors");
        throw new FileNotFoundException("weights/bpr-hr18s.safetensors: no NativeSeg.sln above the test binaries");
    }
}
