using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Synthetic;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>`segment --draw-thresh`: which instances the overlays show, apart from what the results JSON keeps.</summary>
public class SegmentDrawThresholdTests
{
    [Fact]
    public void DrawThresholdFiltersTheOverlayButNotTheResults()
    {
        // The default model on a synthetic image: confident shapes and low-scoring guesses, unlike formula weights' saturated scores.
        using var temp = new TempFolder();
        string image = temp.File("shapes.png");
        var generated = SyntheticDataset.Generate(new SyntheticOptions(1, 256, 256, 6, 6, Seed: 777), 0);
        Png.Write(image, new Image(256, 256, 3, generated.Rgb));

        var byDefault = Segment(temp, image, "default");
        var all = Segment(temp, image, "all", "--draw-thresh", "0");
        var none = Segment(temp, image, "none", "--draw-thresh", "1");

        Assert.Equal(byDefault.Json, all.Json);
        Assert.Equal(byDefault.Json, none.Json);
        var scores = CocoJson.ReadResults(temp.File("default/results.json")).Select(r => r.Score ?? -1).ToList();
        Assert.Contains(scores, s => s < 0.5);
        Assert.Contains(scores, s => s is >= 0.5 and < 1);
        Assert.True(scores.Max() < 1);
        Assert.Equal(generated.Rgb, none.Overlay);
        Assert.NotEqual(generated.Rgb, byDefault.Overlay);
        Assert.NotEqual(all.Overlay, byDefault.Overlay);
    }

    private static (string Json, byte[] Overlay) Segment(TempFolder temp, string image, string outDir, params string[] options)
    {
        var (code, output, error) = CliRun.Run(["segment", image, "--device", "cpu", "--out", temp.File(outDir), .. options]);
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        return (File.ReadAllText(temp.File($"{outDir}/results.json")), ImageFile.Read(temp.File($"{outDir}/shapes.png")).Pixels);
    }

    [Theory]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("nan")]
    public void DrawThresholdOutsideZeroToOneIsRefused(string value)
    {
        using var temp = new TempFolder();
        string image = temp.File("scene.png");
        File.Copy(FixturePaths.Fixture("palette.png"), image);

        var (code, _, error) = CliRun.Run("segment", image, "--device", "cpu", "--out", temp.File("out"), "--draw-thresh", value);

        Assert.Equal(2, code);
        Assert.Contains("--draw-thresh must be a number from 0 to 1", error);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    [Fact]
    public void HelpDocumentsBothThresholds()
    {
        var (code, output, _) = CliRun.Run("segment", "--help");

        Assert.Equal(0, code);
        Assert.Contains("--draw-thresh", output);
        Assert.Contains("--score-thresh", output);
        Assert.Contains("[default: 0.5]", output);
    }
}
