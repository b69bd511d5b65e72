using NativeSeg.Cli.Parsing;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `segment --shard` with JSON Lines results, `--list` and `--annotations --images` as inputs, and `merge`:
/// shards merged equal one run, and every wrong input or results file is an error naming it.
/// </summary>
public class SegmentShardTests : IClassFixture<SegmentShardTests.Data>
{
    /// <summary>Eight synthetic 64×64 images and their annotations, made once for the class.</summary>
    public sealed class Data : IDisposable
    {
        public Data() => Assert.Equal(0, CliRun.Run("synth", "--out", Temp.File("data"), "--images", "8", "--size", "64x64", "--seed", "21").Code);

        internal TempFolder Temp { get; } = new();

        public string Images => Temp.File("data/images");

        public string Annotations => Temp.File("data/annotations.json");

        public void Dispose() => Temp.Dispose();
    }

    private readonly Data _data;

    public SegmentShardTests(Data data) => _data = data;

    private static (int Code, string Output, string Error) Segment(params string[] args) =>
        CliRun.Run([.. new[] { "segment", "--device", "cpu", "--score-thresh", "0.05" }, .. args]);

    /// <summary>Each image's results as comparable text, by image id.</summary>
    internal static Dictionary<long, string> PerImage(IEnumerable<CocoAnnotation> results) =>
        results.GroupBy(r => r.ImageId).ToDictionary(g => g.Key, g => string.Join("\n", g.Select(r =>
            $"{r.CategoryId} {r.Score:F5} {r.Box} {((RleSegmentation)r.Segmentation!).Mask.ToCompressedString()}")));

    [Fact]
    public void FourShardsMergedEqualOneRunAndEvalReadsJsonLines()
    {
        using var temp = new TempFolder();
        var one = Segment(_data.Images, "--out", temp.File("one"), "--json", temp.File("one/results.jsonl"));
        Assert.True(one.Code == 0, one.Output + one.Error);
        var shardFiles = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            var shard = Segment(_data.Images, "--shard", $"{i}/4", "--out", temp.File("shards"));
            Assert.True(shard.Code == 0, shard.Output + shard.Error);
            Assert.Contains($"8 images, ", shard.Output);
            shardFiles.Add(temp.File($"shards/shard-{i}-of-4.jsonl"));
        }

        var merge = CliRun.Run([.. new[] { "merge" }, .. shardFiles, "--json", temp.File("all.json"), "--inputs", _data.Images]);

        Assert.True(merge.Code == 0, merge.Output + merge.Error);
        Assert.Contains($"8 images of 8, ", merge.Output);
        Assert.True(shardFiles.Count(f => File.ReadLines(f).Any()) >= 3, "the eight images should spread over at least three shards");
        var merged = PerImage(CocoJson.ReadResults(temp.File("all.json")));
        Assert.Equal(PerImage(ReadLines(temp.File("one/results.jsonl"))).OrderBy(p => p.Key), merged.OrderBy(p => p.Key));
        var evalLines = CliRun.Run("eval", "--annotations", _data.Annotations, "--results", temp.File("one/results.jsonl"));
        var evalMerged = CliRun.Run("eval", "--annotations", _data.Annotations, "--results", temp.File("all.json"));
        Assert.True(evalLines.Code == 0 && evalMerged.Code == 0, evalLines.Error + evalMerged.Error);
        Assert.Equal(Summary(evalLines.Output), Summary(evalMerged.Output));
    }

    [Fact]
    public void ListEntriesAreCheckedBeforeAnythingRunsNamingTheLine()
    {
        using var temp = new TempFolder();
        string list = temp.File("list.txt");
        File.WriteAllText(list, $"{_data.Images}/000001.png\n\nmissing/000002.png\r\n{_data.Annotations}\n{_data.Images}\n");

        var (code, _, error) = Segment("--list", list, "--out", temp.File("out"));

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"error: {list}:3: {temp.File("missing/000002.png")} does not exist", error);
        Assert.Contains($"error: {list}:4: {_data.Annotations} is not a supported image", error);
        Assert.Contains($"error: {list}:5: {_data.Images} is a folder, not an image", error);
        Assert.DoesNotContain(":1:", error);
        Assert.False(Directory.Exists(temp.File("out")));
    }

    [Fact]
    public void AListIsReadRelativeToItsFolderAndPositionsAreTheImageIds()
    {
        using var temp = new TempFolder();
        File.WriteAllText(_data.Temp.File("data/list.txt"), "images/000003.png\nimages/000001.png\n");

        var (code, output, error) = Segment("--list", _data.Temp.File("data/list.txt"), "--out", temp.File("out"), "--json", temp.File("r.jsonl"));

        Assert.True(code == 0, output + error);
        var lines = ResultLines.Read(temp.File("r.jsonl"), _ => Assert.Fail("torn")).Select(e => e.Input).ToList();
        Assert.Equal([Path.Combine(_data.Images, "000003.png"), Path.Combine(_data.Images, "000001.png")], lines);
        Assert.True(File.Exists(temp.File("out/images/000003.png")), "the overlay keeps the path below the list's folder");
        Assert.Equal([1L, 2L], ReadLines(temp.File("r.jsonl")).Select(r => r.ImageId).Distinct().Order());
    }

    [Fact]
    public void TheImagesOfAnAnnotationFileAreASourceWithTheirIds()
    {
        using var temp = new TempFolder();
        var dataset = CocoJson.ReadDataset(_data.Annotations);

        var (code, output, error) = Segment("--annotations", _data.Annotations, "--images", _data.Temp.File("data"), "--shard", "1/2",
            "--out", temp.File("out"));

        Assert.True(code == 0, output + error);
        Assert.Contains($"image ids from {_data.Annotations}", output);
        var inputs = ResultLines.Read(temp.File("out/shard-1-of-2.jsonl"), _ => Assert.Fail("torn")).Select(e => e.Input).ToList();
        var expected = dataset.Images.Where(i => new NativeSeg.Cli.Inputs.Shard(1, 2).Contains(i.FileName)).ToList();
        Assert.Equal(expected.Select(i => Path.GetFullPath(Path.Combine(_data.Temp.File("data"), i.FileName))), inputs);
        Assert.Subset(expected.Select(i => i.Id).ToHashSet(), ReadLines(temp.File("out/shard-1-of-2.jsonl")).Select(r => r.ImageId).ToHashSet());
    }

    [Fact]
    public void AShardNeedsJsonLinesAndStandardInputCannotBeSharded()
    {
        using var temp = new TempFolder();
        var array = Segment(_data.Images, "--shard", "0/2", "--json", temp.File("r.json"));
        Assert.Equal(ExitCodes.Usage, array.Code);
        Assert.Contains($"--shard writes JSON Lines for `nativeseg merge`: --json must name a .jsonl file, got {temp.File("r.json")}", array.Error);
        var slurm = Segment(_data.Images, "--shard", "slurm", "--out", temp.File("out"));
        Assert.Equal(ExitCodes.Usage, slurm.Code);
        Assert.Contains("--shard slurm needs SLURM_ARRAY_TASK_ID", slurm.Error);
    }

    [Fact]
    public void MergeRefusesAnImageInTwoShardsAndReportsMissingOnes()
    {
        using var temp = new TempFolder();
        var shard = Segment(_data.Images, "--shard", "0/2", "--out", temp.File("out"));
        Assert.True(shard.Code == 0, shard.Output + shard.Error);
        string first = temp.File("out/shard-0-of-2.jsonl"), copy = temp.File("copy.jsonl");
        File.Copy(first, copy);
        string image = ResultLines.Read(first, _ => { }).First().Input;

        var twice = CliRun.Run("merge", first, copy, "--json", temp.File("all.json"));

        Assert.Equal(ExitCodes.Usage, twice.Code);
        Assert.Contains($"error: {image} appears twice: {first} line 1 and {copy} line 1", twice.Error);
        Assert.False(File.Exists(temp.File("all.json")));

        var missing = CliRun.Run("merge", first, "--json", temp.File("all.json"), "--inputs", _data.Images);

        Assert.Equal(ExitCodes.Failure, missing.Code);
        int held = File.ReadLines(first).Count();
        Assert.Contains($"error: {8 - held} of the 8 inputs are in no shard", missing.Error);
        Assert.Contains("is in no shard", missing.Error);
        Assert.True(File.Exists(temp.File("all.json")));
    }

    [Fact]
    public void ATornLastLineCountsAsMissingAndABadLineBeforeItIsAnErrorNamingIt()
    {
        using var temp = new TempFolder();
        var one = Segment(_data.Images, "--out", temp.File("out"), "--json", temp.File("r.jsonl"));
        Assert.True(one.Code == 0, one.Output + one.Error);
        var lines = File.ReadAllLines(temp.File("r.jsonl"));
        File.WriteAllText(temp.File("torn.jsonl"), string.Join("\n", lines[..^1]) + "\n" + lines[^1][..10]);
        File.WriteAllText(temp.File("bad.jsonl"), lines[0] + "\n" + lines[1][..10] + "\n" + string.Join("\n", lines[2..]) + "\n");

        var torn = CliRun.Run("merge", temp.File("torn.jsonl"), "--json", temp.File("all.json"), "--inputs", _data.Images);
        var bad = CliRun.Run("merge", temp.File("bad.jsonl"), "--json", temp.File("all.json"));
        var evalTorn = CliRun.Run("eval", "--annotations", _data.Annotations, "--results", temp.File("torn.jsonl"));

        Assert.Equal(ExitCodes.Failure, torn.Code);
        Assert.Contains($"warning: {temp.File("torn.jsonl")}: line 8, the last, is cut off", torn.Error);
        Assert.Contains("error: 1 of the 8 inputs are in no shard", torn.Error);
        Assert.Equal(ExitCodes.Usage, bad.Code);
        Assert.Contains($"error: {temp.File("bad.jsonl")}: line 2 is not a finished image's results", bad.Error);
        Assert.Equal(ExitCodes.Usage, evalTorn.Code);
        Assert.Contains("line 8, the last, is cut off by an interrupted segment run", evalTorn.Error);
    }

    /// <summary>The records of a JSON Lines results file, every line complete.</summary>
    internal static List<CocoAnnotation> ReadLines(string path) =>
        ResultLines.Read(path, line => Assert.Fail($"{path}: line {line} is torn"))
            .SelectMany(e => e.Results.EnumerateArray().Select(r => CocoJson.ReadResult(r, path)).ToList()).ToList();

    private static string Summary(string evalOutput) => string.Join("\n", evalOutput.Split('\n').Where(l => l.Contains("Average")));
}
