using System.Text.Json;
using NativeSeg.Cli.Parsing;
using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `segment --resume` after a kill. Signalling a child from the test host does not work here, so the tests build
/// the state a SIGKILL leaves: FILE.partial with complete image lines and the line being written cut off.
/// </summary>
public class SegmentResumeTests
{
    private sealed record Setup(TempFolder Temp, string Model, string[] Images, string Json) : IDisposable
    {
        public string Partial => Json + ResultLines.PartialSuffix;

        public (int Code, string Output, string Error) Segment(params string[] extra) =>
            CliRun.Run([.. new[] { "segment", Path.GetDirectoryName(Images[0])!, "--model", Model, "--device", "cpu", "--out", Temp.File("out"), "--json", Json, "--score-thresh", "0" }, .. extra]);

        public void Dispose() => Temp.Dispose();
    }

    private static Setup Create()
    {
        var temp = new TempFolder();
        string model = temp.File("model.safetensors");
        SegmentCommandTests.WriteModel(model, MaskRcnnArchitectures.Torchvision);
        Assert.Equal(0, CliRun.Run("synth", "--out", temp.File("data"), "--images", "3", "--size", "96x64", "--seed", "5").Code);
        string[] images = Directory.GetFiles(temp.File("data/images")).Order(StringComparer.Ordinal).ToArray();
        return new(temp, model, images, temp.File("results.json"));
    }

    /// <summary>A partial file's line for one image, as segment writes it, from that image's records in a finished results file.</summary>
    private static string Line(string image, IEnumerable<JsonElement> records) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["input"] = Path.GetFullPath(image), ["results"] = records.ToArray() });

    private static List<JsonElement> Records(string json, long imageId)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(json));
        return document.RootElement.EnumerateArray().Where(r => r.GetProperty("image_id").GetInt64() == imageId).Select(r => r.Clone()).ToList();
    }

    [Fact]
    public void ResumeKeepsFinishedImagesDropsTheTornLineAndSegmentsOnlyTheRest()
    {
        using var s = Create();
        var full = s.Segment();
        Assert.True(full.Code == 0, full.Output + full.Error);
        var reference = CocoJson.ReadResults(s.Json);
        Assert.All(Enumerable.Range(1, 3), id => Assert.Contains(reference, r => r.ImageId == id));

        // Image 1's records carry a marker score: a resumed run keeps them as they were rather than segmenting image 1 again.
        var first = Records(s.Json, 1).Select(r =>
        {
            var node = System.Text.Json.Nodes.JsonNode.Parse(r.GetRawText())!;
            node["score"] = 0.123456;
            return JsonSerializer.SerializeToElement(node);
        }).ToList();
        string third = Line(s.Images[2], Records(s.Json, 3));
        File.WriteAllText(s.Partial, Line(s.Images[0], first) + "\n" + Line(s.Images[1], Records(s.Json, 2)) + "\n" + third[..(third.Length / 2)]);
        File.Delete(s.Json);

        var (code, output, error) = s.Segment("--resume");

        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Contains($"resuming {s.Partial}: 2 finished images are skipped; its last line, cut off by the interruption, is dropped", output);
        Assert.DoesNotContain(Path.GetFileName(s.Images[0]) + ":", output);
        Assert.DoesNotContain(Path.GetFileName(s.Images[1]) + ":", output);
        Assert.Contains(Path.GetFileName(s.Images[2]) + ":", output);
        Assert.Contains("1 images (+2 finished before)", output);
        Assert.False(File.Exists(s.Partial));
        var resumed = CocoJson.ReadResults(s.Json);
        Assert.Equal(reference.Count, resumed.Count);
        Assert.All(resumed.Where(r => r.ImageId == 1), r => Assert.Equal(0.123456, r.Score!.Value, 9));
        var expected = reference.Where(r => r.ImageId != 1).Select(r => (r.ImageId, r.CategoryId, r.Score)).ToList();
        Assert.Equal(expected, resumed.Where(r => r.ImageId != 1).Select(r => (r.ImageId, r.CategoryId, r.Score)).ToList());
    }

    [Fact]
    public void WithoutResumeAnExistingPartialFileIsReportedAndKept()
    {
        using var s = Create();
        string partial = Line(s.Images[0], []) + "\n";
        File.WriteAllText(s.Partial, partial);

        var (code, output, error) = s.Segment();

        Assert.True(code == ExitCodes.Usage, $"exit {code}\n{output}\n{error}");
        Assert.Contains($"{s.Partial} holds the results of 1 images finished by an interrupted run; add --resume", error);
        Assert.Contains("or delete it to start over", error);
        Assert.Equal(partial, File.ReadAllText(s.Partial));
        Assert.False(File.Exists(s.Json));
        Assert.False(Directory.Exists(s.Temp.File("out")));
    }

    [Fact]
    public void ADamagedLineBeforeTheLastIsAnErrorNamingIt()
    {
        using var s = Create();
        File.WriteAllText(s.Partial, Line(s.Images[0], []) + "\n{\"input\": \n" + Line(s.Images[1], []) + "\n");

        var (code, _, error) = s.Segment("--resume");

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"{s.Partial}: line 2 is not a finished image's results", error);
    }

    [Fact]
    public void ResumeWithNothingToResumeSegmentsEverything()
    {
        using var s = Create();
        var (code, output, error) = s.Segment("--resume");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Contains("nothing to resume", output);
        Assert.Contains("3 images,", output);
    }

    [Theory]
    [InlineData("", 0, false)]
    [InlineData("L1\nL2\n", 2, false)]
    [InlineData("L1\nL2\n{\"input\": \"/x/c.png\", \"res", 2, true)]
    [InlineData("L1\n{\"input\": \"/x/c.png\", \"results\": []}", 1, true)]
    public void PartialFileKeepsCompleteLinesOnly(string content, int complete, bool torn)
    {
        using var temp = new TempFolder();
        string a = Line("/x/a.png", [JsonSerializer.SerializeToElement(new { image_id = 1 })]), b = Line("/x/b.png", []);
        string text = content.Replace("L1", a).Replace("L2", b);
        File.WriteAllText(temp.File("r.json.partial"), text);

        var read = FinishedImages.Read(temp.File("r.json.partial"));

        Assert.Equal(complete, read.Count);
        Assert.Equal(torn, read.DroppedTornLine);
        Assert.Equal(complete >= 1 ? 1 : 0, read.Records);
        Assert.Equal(complete switch { 0 => 0, 1 => a.Length + 1, _ => a.Length + b.Length + 2 }, read.CompleteLength);
    }
}
