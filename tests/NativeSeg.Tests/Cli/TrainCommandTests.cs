using System.Text.Json;
using NativeSeg.Cli;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Training;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.Training.Data;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `nativeseg train` on a small synthetic set from the shipped default model: outputs, category changes, resume after
/// a kill, bad inputs, divergence. Images are tiny (64 px) so an iteration takes about a second.
/// </summary>
public sealed class TrainCommandTests : IDisposable
{
    private readonly SyntheticTrainingData _data = new(images: 4, width: 80, height: 64);
    private readonly TempFolder _runs = new();

    private string Model => DefaultModel.Find() ?? throw new FileNotFoundException("weights/default.safetensors not found from the test's folder");

    private string[] Args(string run, int iterations, params string[] more) => ArgsWith(run, iterations, _data.AnnotationsPath, "0.002", more);

    private string[] ArgsWith(string run, int iterations, string annotations, string lr, params string[] more) =>
    [
        "train", "--model", Model, "--annotations", annotations, "--images", _data.Folder, "--out", Path.Combine(_runs.Path, run),
        "--iters", $"{iterations}", "--batch", "2", "--lr", lr, "--min-size", "64", "--max-size", "96", "--seed", "7", "--threads", "2", .. more,
    ];

    [Fact]
    public void WritesMetricsACheckpointAndAModelThatSegmentLoads()
    {
        var (code, output, error) = CliRun.Run(Args("plain", 2, "--checkpoint-every", "1"));
        Assert.True(code == 0, error);
        Assert.Contains("iter 2/2", output);
        string run = Path.Combine(_runs.Path, "plain");
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(2, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            foreach (var field in new[] { "iter", "lr", "loss", "loss_objectness", "loss_rpn_box_reg", "loss_classifier", "loss_box_reg", "loss_mask", "seconds" })
                Assert.True(first.RootElement.TryGetProperty(field, out _), $"metrics line lacks '{field}': {lines[0]}");
        }
        using (var checkpoint = SafetensorsFile.Open(Path.Combine(run, "checkpoint.safetensors")))
        {
            Assert.Equal("2", checkpoint.Metadata[TrainingCheckpoint.IterationKey]);
            Assert.Contains(checkpoint.Names, n => n.StartsWith("momentum.", StringComparison.Ordinal));
        }
        var segmented = CliRun.Run("segment", Path.Combine(_data.Folder, _data.Dataset.Images[0].FileName), "--model", Path.Combine(run, "model_final.safetensors"),
            "--out", Path.Combine(run, "segmented"));
        Assert.True(segmented.Code == 0, segmented.Error);
    }

    [Fact]
    public void NewCategoriesReinitialiseTheClassSpecificLayersAndSaySo()
    {
        foreach (var c in _data.Dataset.Categories.ToList())
        {
            _data.Dataset.Categories[_data.Dataset.Categories.IndexOf(c)] = c with { Id = c.Id + 100, Name = "new-" + c.Name };
        }
        foreach (var a in _data.Dataset.Annotations) a.CategoryId += 100;
        _data.Save();
        var (code, output, error) = CliRun.Run(Args("retarget", 1));
        Assert.True(code == 0, error);
        Assert.Contains("re-initialised", output);
        Assert.Contains("roi_heads.box_predictor.cls_score.weight", output);
        using var model = SafetensorsFile.Open(Path.Combine(_runs.Path, "retarget", "model_final.safetensors"));
        Assert.Equal([SyntheticTrainingData.Classes + 1, 128], model.Load("roi_heads.box_predictor.cls_score.weight").Shape.ToArray());
        Assert.Contains("\"category_ids\":[101,102,103]", model.Metadata["config"]);
    }

    /// <summary>
    /// What SIGKILL leaves after the iteration-2 checkpoint: metrics lines of later iterations and a torn last line.
    /// (Signalling a child from inside the test host is not reliable on every machine, so the state is made directly.)
    /// </summary>
    [Fact]
    public void ResumeAfterAKillReproducesTheUninterruptedRun()
    {
        const int iterations = 5;
        var uninterrupted = CliRun.Run(Args("whole", iterations));
        Assert.True(uninterrupted.Code == 0, uninterrupted.Error);

        string metrics = Path.Combine(_runs.Path, "killed", "metrics.jsonl");
        var first = CliRun.Run(Args("killed", 2));
        Assert.True(first.Code == 0, first.Error);
        var wholeLines = File.ReadAllLines(Path.Combine(_runs.Path, "whole", "metrics.jsonl"));
        File.AppendAllText(metrics, wholeLines[2] + "\n" + wholeLines[3][..(wholeLines[3].Length / 2)]);

        var resumed = CliRun.Run(Args("killed", iterations, "--resume"));
        Assert.True(resumed.Code == 0, resumed.Error);
        Assert.Contains("resuming from", resumed.Output);
        Assert.Contains("after 2 iterations", resumed.Output);
        Assert.Equal(Losses(Path.Combine(_runs.Path, "whole", "metrics.jsonl")), Losses(metrics));
    }

    [Fact]
    public void BadInputsFailBeforeTrainingAndNameWhatIsWrong()
    {
        var missingFile = CliRun.Run(ArgsWith("a", 1, Path.Combine(_data.Folder, "nope.json"), "0.002"));
        Assert.Equal(2, missingFile.Code);
        Assert.Contains("nope.json", missingFile.Error);

        _data.Dataset.Annotations[0].CategoryId = 42;
        _data.Save();
        var unknownCategory = CliRun.Run(Args("b", 1));
        Assert.Equal(2, unknownCategory.Code);
        Assert.Contains("42", unknownCategory.Error);
        _data.Dataset.Annotations[0].CategoryId = 1;
        _data.Save();

        File.Delete(Path.Combine(_data.Folder, "images", "000001.png"));
        var missingImage = CliRun.Run(Args("c", 1));
        Assert.Equal(2, missingImage.Code);
        Assert.Contains("000001.png", missingImage.Error);
        Assert.False(File.Exists(Path.Combine(_runs.Path, "c", "metrics.jsonl")), "training started despite a missing image");
    }

    [Fact]
    public void ANonFiniteLossStopsTrainingAndKeepsTheLastCheckpoint()
    {
        var (code, _, error) = CliRun.Run(ArgsWith("diverge", 8, _data.AnnotationsPath, "1e12", "--checkpoint-every", "1"));
        Assert.Equal(1, code);
        Assert.Matches(@"iteration \d+: loss_\w+ is (NaN|∞|-∞)", error);
        Assert.Contains("is intact", error);
        using var checkpoint = SafetensorsFile.Open(Path.Combine(_runs.Path, "diverge", "checkpoint.safetensors"));
        Assert.True(int.Parse(checkpoint.Metadata[TrainingCheckpoint.IterationKey]) >= 1);
    }

    private static List<double> Losses(string metrics) =>
        [.. File.ReadAllLines(metrics).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble())];

    public void Dispose()
    {
        _runs.Dispose();
        _data.Dispose();
    }
}
