using System.Text.Json.Nodes;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// The configured ResNet-18 architecture of the default model: its key check against the state dict of
/// build/default_model_torch.py's model (tests/reference/make_default_model_keys.py), and its config read back.
/// </summary>
public class DefaultModelArchitectureTests
{
    private static JsonObject TrainingConfig() => new()
    {
        ["num_classes"] = 7, ["class_names"] = new JsonArray("ellipse", "rectangle", "triangle", "pentagon", "hexagon", "star"),
        ["category_ids"] = new JsonArray(1, 2, 3, 4, 5, 6), ["fpn_channels"] = 64, ["box_representation"] = 128,
        ["mask_conv_dim"] = 64, ["min_size"] = 256, ["max_size"] = 256, ["norm_eps"] = 1e-5,
        ["image_mean"] = new JsonArray(0.485, 0.456, 0.406), ["image_std"] = new JsonArray(0.229, 0.224, 0.225),
    };

    [Fact]
    public void KeysAreTheTrainedModelsStateDict()
    {
        var expected = File.ReadLines(FixturePaths.Fixture("keys_maskrcnn_resnet18_fpn.txt"))
            .Select(line => line.Split(' '))
            .Where(parts => !parts[0].EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            .ToDictionary(parts => parts[0], parts => parts[1].Split(',').Select(int.Parse).ToArray());
        var arch = MaskRcnnArchitecture.Configured(MaskRcnnArchitectures.TorchvisionResNet18, TrainingConfig());
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), arch.ExpectedKeys.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected) Assert.True(shape.SequenceEqual(arch.ExpectedKeys[name]), name);
    }

    [Fact]
    public void ConvertedConfigGivesTheSetup()
    {
        var arch = MaskRcnnArchitecture.Configured(MaskRcnnArchitectures.TorchvisionResNet18, TrainingConfig());
        var setup = MaskRcnnArchitectures.FromMetadata(
            new Dictionary<string, string> { ["architecture"] = arch.Name, ["config"] = arch.ConfigJson }, "default.safetensors");
        Assert.Equal(18, setup.Backbone.Depth);
        Assert.Equal(1e-5, setup.Backbone.NormEps);
        Assert.Equal(64, setup.Backbone.FpnChannels);
        Assert.Equal(64, setup.Heads.FeatureChannels);
        Assert.Equal(128, setup.Heads.BoxHidden);
        Assert.Equal(64, setup.Heads.MaskChannels);
        Assert.Equal(7, setup.Heads.ClassLogits);
        Assert.Equal([-1, 1, 2, 3, 4, 5, 6], setup.Heads.CategoryIds);
        Assert.Equal(256, setup.Preprocess.MinSize);
        Assert.Equal(256, setup.Preprocess.MaxSize);
        Assert.Equal("star", setup.CategoryNames![6]);
        Assert.Equal(0.229f, setup.Preprocess.PixelStd[0]);
    }

    [Fact]
    public void CategoryIdsMustMatchTheClassCount()
    {
        var config = TrainingConfig();
        config["num_classes"] = 8;
        var error = Assert.Throws<FormatException>(() => MaskRcnnArchitecture.Configured(MaskRcnnArchitectures.TorchvisionResNet18, config));
        Assert.Contains("6 category_ids for num_classes 8", error.Message);
    }
}
