using System.Text.Json;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Bpr;
using NativeSeg.Models.Training;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.Training.Data;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `nativeseg init --arch bpr-hr18s` and `nativeseg train` on a BPR model: mmseg's initialisation, seeded; patches cut
/// along coarse masks (here the ground truth shifted by a few pixels); metrics, checkpoint and a float16 model that
/// `refine` loads; a resume that reproduces the uninterrupted run; BPR-only options named when they are misused.
/// Two 96×80 images and batches of two patches keep each run to a few seconds (about 40 s in all).
/// </summary>
public sealed class BprTrainCommandTests : IDisposable
{
    private readonly SyntheticTrainingData _data = new(images: 2, width: 96, height: 80);
    private readonly TempFolder _folder = new();

    private string Init(int seed = 1)
    {
        string path = Path.Combine(_folder.Path, $"init-{seed}.safetensors");
        if (!File.Exists(path))
        {
            var (code, _, error) = CliRun.Run("init", "--arch", "bpr-hr18s", "--out", path, "--seed", $"{seed}");
            Assert.True(code == 0, error);
        }
        return path;
    }

    /// <summary>Coarse results: every ground-truth mask moved 3 pixels right, so it overlaps its instance but not exactly.</summary>
    private string Coarse()
    {
        string path = Path.Combine(_folder.Path, "coarse.json");
        var sizes = _data.Dataset.Images.ToDictionary(i => i.Id, i => (i.Height, i.Width));
        using var stream = File.Create(path);
        CocoJson.WriteResults(stream, _data.Dataset.Annotations.Where(a => !a.IsCrowd).Select(a =>
        {
            var (h, w) = sizes[a.ImageId];
            var truth = a.Segmentation!.ToRle(h, w).ToRowMajor();
            var shifted = new byte[truth.Length];
            for (int y = 0; y < h; y++)
                Array.Copy(truth, y * w, shifted, y * w + 3, w - 3);
            return new CocoAnnotation { ImageId = a.ImageId, CategoryId = a.CategoryId, Segmentation = new RleSegmentation(Rle.FromRowMajor(shifted, h, w)), Score = 0.9 };
        }));
        return path;
    }

    private string[] Train(string run, int iterations, params string[] more) =>
    [
        "train", "--model", Init(), "--annotations", _data.AnnotationsPath, "--images", _data.Folder, "--coarse", Coarse(),
        "--out", Path.Combine(_folder.Path, run), "--iters", $"{iterations}", "--batch", "2", "--lr", "0.01", "--seed", "5", "--threads", "2", .. more,
    ];

    [Fact]
    public void InitDrawsMmsegsInitialisationSeeded()
    {
        string a = Init(3), b = Path.Combine(_folder.Path, "again.safetensors");
        Assert.Equal(0, CliRun.Run("init", "--arch", "bpr-hr18s", "--out", b, "--seed", "3").Code);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(Init(4)));
        Assert.Equal(BprConfig.Hr18s, BprModel.Inspect(a));
        using var file = SafetensorsFile.Open(a);
        float[] Values(string key) => file.Load(key).ToArray<float>();
        // kaiming_normal_(fan_out, relu): the mask conv (64 out, 3×3) has std √(2 / 576); conv_seg N(0, 0.01²), zero bias.
        AssertStd(Values("backbone.conv_mask.weight"), MathF.Sqrt(2f / (64 * 9)));
        AssertStd(Values("backbone.stage4.1.branches.3.1.conv2.weight"), MathF.Sqrt(2f / (144 * 9)));
        AssertStd(Values("decode_head.conv_seg.weight"), 0.01f);
        Assert.All(Values("decode_head.conv_seg.bias"), v => Assert.Equal(0f, v));
        Assert.All(Values("backbone.bn1.weight"), v => Assert.Equal(1f, v));
        Assert.All(Values("decode_head.convs.0.bn.running_var"), v => Assert.Equal(1f, v));
        Assert.All(Values("decode_head.convs.0.bn.running_mean"), v => Assert.Equal(0f, v));
        var withConfig = CliRun.Run("init", "--arch", "bpr-hr18s", "--out", b, "--config", _data.AnnotationsPath);
        Assert.Equal(2, withConfig.Code);
        Assert.Contains("--config does not apply to bpr-hr18s", withConfig.Error);
    }

    [Fact]
    public void TrainsOnPatchesAndWritesAModelThatRefineLoads()
    {
        var (code, output, error) = CliRun.Run(Train("plain", 2, "--checkpoint-every", "1", "--fp16"));
        Assert.True(code == 0, error + output);
        Assert.Matches(@"\d+ patches from \d+ of the \d+ coarse masks", output);
        Assert.Contains("iter 2/2", output);
        string run = Path.Combine(_folder.Path, "plain");
        var lines = File.ReadAllLines(Path.Combine(run, "metrics.jsonl"));
        Assert.Equal(2, lines.Length);
        using (var first = JsonDocument.Parse(lines[0]))
        {
            Assert.True(first.RootElement.GetProperty("loss_seg").GetDouble() is > 0 and < 5, lines[0]);
            Assert.Equal(0.01, first.RootElement.GetProperty("lr").GetDouble(), 6);
        }
        using (var checkpoint = SafetensorsFile.Open(Path.Combine(run, "checkpoint.safetensors")))
        {
            Assert.Equal("2", checkpoint.Metadata[TrainingCheckpoint.IterationKey]);
            Assert.Contains("momentum.backbone.conv_mask.weight", checkpoint.Names);
        }
        string model = Path.Combine(run, "model_final.safetensors");
        Assert.Equal(BprConfig.Hr18s, BprModel.Inspect(model));
        string images = Path.GetDirectoryName(Path.Combine(_data.Folder, _data.Dataset.Images[0].FileName))!;
        var refined = CliRun.Run("refine", images, "--results", Coarse(), "--annotations", _data.AnnotationsPath, "--model", model,
            "--json", Path.Combine(run, "refined.json"), "--device", "cpu");
        Assert.True(refined.Code == 0, refined.Error);
    }

    [Fact]
    public void ResumeReproducesTheUninterruptedRun()
    {
        Assert.Equal(0, CliRun.Run(Train("whole", 3)).Code);
        Assert.Equal(0, CliRun.Run(Train("resumed", 1)).Code);
        var (code, output, error) = CliRun.Run(Train("resumed", 3, "--resume"));
        Assert.True(code == 0, error);
        Assert.Contains("resuming from", output);
        Assert.Equal(File.ReadAllBytes(Path.Combine(_folder.Path, "whole", "model_final.safetensors")),
            File.ReadAllBytes(Path.Combine(_folder.Path, "resumed", "model_final.safetensors")));
    }

    [Fact]
    public void BprOnlyAndMaskRcnnOnlyOptionsAreNamed()
    {
        var noCoarse = CliRun.Run("train", "--model", Init(), "--annotations", _data.AnnotationsPath, "--images", _data.Folder,
            "--out", Path.Combine(_folder.Path, "x"), "--iters", "1", "--batch", "1", "--lr", "0.01");
        Assert.Equal(2, noCoarse.Code);
        Assert.Contains("--coarse", noCoarse.Error);
        var steps = CliRun.Run(Train("y", 1, "--steps", "1"));
        Assert.Equal(2, steps.Code);
        Assert.Contains("--steps", steps.Error);
        var unmatched = Path.Combine(_folder.Path, "elsewhere.json");
        File.WriteAllText(unmatched, "[{\"image_id\": 999, \"category_id\": 1, \"segmentation\": [[1, 1, 30, 1, 30, 30]], \"score\": 0.5}]");
        var foreign = CliRun.Run([.. Train("z", 1).Select(a => a == Coarse() ? unmatched : a)]);
        Assert.Equal(2, foreign.Code);
        Assert.Contains("image_id 999", foreign.Error);
    }

    private static void AssertStd(float[] values, float expected)
    {
        double mean = values.Average(v => (double)v);
        double std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(std, 0.9 * expected, 1.1 * expected);
    }

    public void Dispose()
    {
        _data.Dispose();
        _folder.Dispose();
    }
}
