using NativeSeg.Cli.Inputs;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>`segment`'s inputs: folders searched recursively in a fixed order, other files named, "-" for stdin and stdout.</summary>
public class SegmentInputsTests
{
    [Fact]
    public void FoldersAreSearchedRecursivelyInPathOrderAndOtherFilesAreNamed()
    {
        using var temp = new TempFolder();
        foreach (string name in new[] { "b.png", "sub/a.jpg", "sub/deeper/c.JPEG", "a.png", "c.webp", "sub/d.bmp", "notes.txt" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(temp.File(name))!);
            File.WriteAllText(temp.File(name), "");
        }
        var error = new StringWriter();

        var files = InputSource.Create([temp.Path], null, null, null, error)!.Enumerate(error).ToList();

        Assert.Equal(new[] { "a.png", "b.png", "sub/a.jpg", "sub/deeper/c.JPEG" }.Select(temp.File), files.Select(f => f.Path));
        Assert.Equal(new[] { "a.png", "b.png", "sub/a.jpg", "sub/deeper/c.JPEG" }, files.Select(f => f.RelativePath));
        Assert.Equal(new long[] { 1, 2, 3, 4 }, files.Select(f => f.Position));
        Assert.Contains($"skipping 3 files in {temp.Path} that are not JPEG or PNG images (.jpg, .jpeg, .png): c.webp, notes.txt, sub/d.bmp", error.ToString());
    }

    [Fact]
    public async Task ReadsAnImageFromStandardInputAndWritesResultsToStandardOutput()
    {
        using var temp = new TempFolder();
        string model = temp.File("model.safetensors");
        SegmentCommandTests.WriteModel(model, MaskRcnnArchitectures.Torchvision);
        Assert.Equal(0, CliRun.Run("synth", "--out", temp.File("data"), "--images", "1", "--size", "96x64").Code);
        var (code, stdout, stderr) = await CliProcess.RunAsync(temp.Path,
            ["segment", "-", "--json", "-", "--model", model, "--device", "cpu", "--out", temp.File("out"), "--score-thresh", "0"],
            File.ReadAllBytes(temp.File("data/images/000001.png")));

        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        File.WriteAllText(temp.File("results.json"), stdout);
        var results = CocoJson.ReadResults(temp.File("results.json"));
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.Equal(1, r.ImageId));
        Assert.Contains("standard output", stderr);
        Assert.True(File.Exists(temp.File("out/stdin.png")));
        Assert.False(File.Exists(temp.File("out/results.json")));
    }
}
