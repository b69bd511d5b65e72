using System.Text.Json.Nodes;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Models.Training.Data;

namespace NativeSeg.Tests.Cli;

/// <summary>
/// `nativeseg init` and training from its file: torchvision's from-scratch initialisation, seeded; a config with
/// "norm": "BN" and trainable_backbone_layers 5 trains every layer with BatchNorm in training mode. Tiny images
/// and narrow heads keep the two training iterations to a few seconds.
/// </summary>
public sealed class InitCommandTests : IDisposable
{
    private const string Arch = "maskrcnn_resnet18_fpn_torchvision";

    private readonly SyntheticTrainingData _data = new(images: 4, width: 80, height: 64);
    private readonly TempFolder _folder = new();

    private string Config(string norm = "BN", int trainableLayers = 5)
    {
        var categories = _data.Dataset.Categories.OrderBy(c => c.Id).ToList();
        var config = new JsonObject
        {
            ["num_classes"] = categories.Count + 1,
            ["category_ids"] = new JsonArray([.. categories.Select(c => (JsonNode?)JsonValue.Create(c.Id))]),
            ["class_names"] = new JsonArray([.. categories.Select(c => (JsonNode?)JsonValue.Create(c.Name))]),
            ["fpn_channels"] = 16, ["box_representation"] = 32, ["mask_conv_dim"] = 16, ["min_size"] = 64, ["max_size"] = 96,
            ["norm"] = norm, ["trainable_backbone_layers"] = trainableLayers,
            ["rpn_pre_nms_top_n_train"] = 200, ["rpn_post_nms_top_n_train"] = 100, ["box_batch_size_per_image"] = 32,
        };
        string path = Path.Combine(_folder.Path, $"config-{norm}-{trainableLayers}.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private (int Code, string Output, string Error) Init(string config, string output, int seed) =>
        CliRun.Run("init", "--arch", Arch, "--config", config, "--out", output, "--seed", $"{seed}");

    [Fact]
    public void DrawsTorchvisionsInitialisationSeeded()
    {
        string a = Path.Combine(_folder.Path, "a.safetensors"), b = Path.Combine(_folder.Path, "b.safetensors"), c = Path.Combine(_folder.Path, "c.safetensors");
        var result = Init(Config(), a, 3);
        Assert.True(result.Code == 0, result.Error);
        Assert.Equal(0, Init(Config(), b, 3).Code);
        Assert.Equal(0, Init(Config(), c, 4).Code);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(c));

        using var file = SafetensorsFile.Open(a);
        Assert.Equal(Arch, file.Metadata["architecture"]);
        Assert.Equal("nativeseg init", file.Metadata["source_format"]);
        float[] Values(string key) => file.Load(key).ToArray<float>();
        // kaiming_normal_(fan_out, relu) on layer3's first 3x3 conv (256 out): std √(2 / (256·9)).
        AssertStd(Values("backbone.body.layer3.0.conv1.weight"), MathF.Sqrt(2f / (256 * 9)));
        Assert.All(Values("backbone.body.layer3.0.bn1.weight"), v => Assert.Equal(1f, v));
        Assert.All(Values("backbone.body.layer3.0.bn1.running_var"), v => Assert.Equal(1f, v));
        Assert.All(Values("backbone.body.bn1.running_mean"), v => Assert.Equal(0f, v));
        // kaiming_uniform_(a=1) on the 1x1 lateral of layer4 (512 in): bound √(3/512), zero bias.
        var lateral = Values("backbone.fpn.inner_blocks.3.0.weight");
        Assert.All(lateral, v => Assert.InRange(v, -MathF.Sqrt(3f / 512), MathF.Sqrt(3f / 512)));
        Assert.True(lateral.Max() > 0.9f * MathF.Sqrt(3f / 512), "FPN weights do not fill their uniform range");
        Assert.All(Values("backbone.fpn.inner_blocks.3.0.bias"), v => Assert.Equal(0f, v));
        AssertStd(Values("rpn.head.conv.0.0.weight"), 0.01f);
        // nn.Linear's default on fc6 (16·7·7 in): weight and bias within ±1/√784.
        Assert.All(Values("roi_heads.box_head.fc6.bias"), v => Assert.InRange(v, -1f / 28, 1f / 28));
        AssertStd(Values("roi_heads.mask_head.0.0.weight"), MathF.Sqrt(2f / (16 * 9)));
        Assert.All(Values("roi_heads.mask_head.0.0.bias"), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void TrainingFromTheInitFileTrainsEveryLayerAndItsBatchNormStatisticsAndWritesFloat16()
    {
        string init = Path.Combine(_folder.Path, "init.safetensors"), run = Path.Combine(_folder.Path, "run");
        Assert.Equal(0, Init(Config(), init, 1).Code);
        var (code, output, error) = CliRun.Run("train", "--model", init, "--annotations", _data.AnnotationsPath, "--images", _data.Folder,
            "--out", run, "--iters", "2", "--batch", "2", "--lr", "0.01", "--seed", "3", "--threads", "2", "--fp16");
        Assert.True(code == 0, error);
        Assert.Contains("iter 2/2", output);
        using var before = SafetensorsFile.Open(init);
        using var after = SafetensorsFile.Open(Path.Combine(run, "model_final.safetensors"));
        Assert.All(after.Entries, e => Assert.Equal(DType.Float16, e.DType));
        float[] Trained(string key) => [.. after.Load(key).ToArray<Half>().Select(h => (float)h)];
        // Compared at float16 precision, so rounding alone cannot make them differ.
        foreach (var key in new[] { "backbone.body.conv1.weight", "backbone.body.bn1.weight", "backbone.body.layer1.0.bn2.bias" })
            Assert.NotEqual(before.Load(key).ToArray<float>().Select(v => (float)(Half)v), Trained(key));
        // The running statistics moved towards the batches' (they start at 0 and 1).
        Assert.Contains(Trained("backbone.body.layer1.0.bn1.running_mean"), v => v != 0f);
        Assert.Contains(Trained("backbone.body.layer1.0.bn1.running_var"), v => v != 1f);
        var segmented = CliRun.Run("segment", Path.Combine(_data.Folder, _data.Dataset.Images[0].FileName), "--model", Path.Combine(run, "model_final.safetensors"),
            "--out", Path.Combine(run, "segmented"));
        Assert.True(segmented.Code == 0, segmented.Error);
        // The run's settings stay in its checkpoint for --resume; the trained model finetunes with frozen BatchNorm.
        Assert.Contains("without this run's settings norm, trainable_backbone_layers", output);
        Assert.Equal("nativeseg train", after.Metadata["source_format"]);
        var finalConfig = JsonNode.Parse(after.Metadata["config"])!.AsObject();
        Assert.False(finalConfig.ContainsKey("norm"));
        Assert.False(finalConfig.ContainsKey("trainable_backbone_layers"));
        Assert.Equal(16, finalConfig["fpn_channels"]!.GetValue<int>());
        using var checkpoint = SafetensorsFile.Open(Path.Combine(run, "checkpoint.safetensors"));
        Assert.Equal("BN", JsonNode.Parse(checkpoint.Metadata["config"])!["norm"]!.GetValue<string>());
    }

    [Fact]
    public void BadSettingsAreUsageErrorsNamingThem()
    {
        string output = Path.Combine(_folder.Path, "x.safetensors");
        var norm = Init(Config(norm: "GN"), output, 0);
        Assert.Equal(2, norm.Code);
        Assert.Contains("config norm is \"GN\"", norm.Error);
        var detectron2 = CliRun.Run("init", "--arch", "maskrcnn_R_50_FPN_detectron2", "--config", Config(), "--out", output);
        Assert.Equal(2, detectron2.Code);
        Assert.Contains("torchvision", detectron2.Error);
        Assert.False(File.Exists(output));

        var layers = Init(Config(trainableLayers: 6), output, 0);
        Assert.Equal(2, layers.Code);
        Assert.Contains("trainable_backbone_layers 6 is outside 0..5", layers.Error);
        Assert.False(File.Exists(output));
    }

    private static void AssertStd(float[] values, float expected)
    {
        double mean = values.Average(v => (double)v);
        double std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(std, 0.9 * expected, 1.1 * expected);
        Assert.InRange(Math.Abs(mean), 0, 0.1 * expected);
    }

    public void Dispose()
    {
        _folder.Dispose();
        _data.Dispose();
    }
}
