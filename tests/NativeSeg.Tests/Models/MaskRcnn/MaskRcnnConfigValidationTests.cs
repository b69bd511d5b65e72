using NativeSeg.Cli;
using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>A converted file's "config" metadata is checked at load time, so nonsense fails with the field named instead of aborting later.</summary>
public class MaskRcnnConfigValidationTests
{
    private static MaskRcnnSetup Load(string config) => MaskRcnnArchitectures.FromMetadata(
        new Dictionary<string, string> { ["architecture"] = MaskRcnnArchitectures.TorchvisionResNet18, ["config"] = config }, "model.safetensors");

    [Theory]
    [InlineData("""{"min_size": 1e6}""", "config min_size 1000000 is outside 1..8192")]
    [InlineData("""{"max_size": 1e6}""", "config max_size 1000000 is outside 1..8192")]
    [InlineData("""{"min_size": 0}""", "config min_size 0 is outside 1..8192")]
    [InlineData("""{"min_size": 800.5}""", "config min_size 800.5 is not an integer in 1..8192")]
    [InlineData("""{"max_size": "big"}""", "config max_size is \"big\"; it takes a number")]
    [InlineData("""{"num_classes": -5}""", "config num_classes -5 is outside 2..10000")]
    [InlineData("""{"num_classes": 1}""", "config num_classes 1 is outside 2..10000")]
    [InlineData("""{"num_classes": 1e9}""", "config num_classes 1000000000 is outside 2..10000")]
    [InlineData("""{"fpn_channels": -64}""", "config fpn_channels -64 is outside 1..4096")]
    [InlineData("""{"box_representation": 0}""", "config box_representation 0 is outside 1..4096")]
    [InlineData("""{"mask_conv_dim": 100000}""", "config mask_conv_dim 100000 is outside 1..4096")]
    [InlineData("""{"mask_conv_dim": 2.5}""", "config mask_conv_dim 2.5 is not an integer in 1..4096")]
    [InlineData("""{"score_thresh": 1.5}""", "config score_thresh 1.5 is outside 0..1")]
    [InlineData("""{"score_thresh": -0.1}""", "config score_thresh -0.1 is outside 0..1")]
    [InlineData("""{"score_thresh": "NaN"}""", "config score_thresh NaN is outside 0..1")]
    [InlineData("""{"norm_eps": -1}""", "config norm_eps -1 is outside 0..1")]
    [InlineData("""{"image_mean": [0.5, 0.5]}""", "config image_mean is [0.5,0.5]; it takes 3 finite numbers, one per channel")]
    [InlineData("""{"image_std": [0.2, 0.2, 0.2, 0.2]}""", "config image_std is [0.2,0.2,0.2,0.2]; it takes 3 finite numbers")]
    [InlineData("""{"image_std": 0.2}""", "config image_std is 0.2; it takes 3 finite numbers")]
    [InlineData("""{"image_mean": [0.5, "x", 0.5]}""", "config image_mean is [0.5,\"x\",0.5]; it takes 3 finite numbers")]
    [InlineData("""{"image_std": [0.2, 0, 0.2]}""", "config image_std [0.2,0,0.2] must have every value above 0")]
    [InlineData("""{"image_std": [0.2, -1, 0.2]}""", "config image_std [0.2,-1,0.2] must have every value above 0")]
    public void NonsenseIsRejectedNamingTheField(string config, string message)
    {
        var error = Assert.Throws<FormatException>(() => Load(config));
        Assert.StartsWith("model.safetensors: ", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void BoundsAreInclusive()
    {
        var setup = Load("""{"min_size": 8192, "max_size": 8192, "score_thresh": 1, "num_classes": 2, "fpn_channels": 4096, "box_representation": 1, "mask_conv_dim": 4096}""");
        Assert.Equal(8192, setup.Preprocess.MaxSize);
        Assert.Equal(1f, setup.Heads.ScoreThreshold);
        Assert.Equal(2, setup.Heads.ClassLogits);
        Assert.Equal(4096, setup.Heads.FeatureChannels);
        Assert.Equal(1, setup.Heads.BoxHidden);
        Assert.Equal(4096, setup.Heads.MaskChannels);
        Assert.Equal(800, Load("""{"min_size": "800"}""").Preprocess.MinSize);
    }

    [Fact]
    public void ShippedDefaultModelStillLoads()
    {
        string path = DefaultModel.Find() ?? throw new FileNotFoundException("weights/default.safetensors not found from the test's folder");
        using var file = SafetensorsFile.Open(path);
        var setup = MaskRcnnArchitectures.FromMetadata(file.Metadata, path);
        Assert.Equal(MaskRcnnArchitectures.TorchvisionResNet18, setup.Architecture);
        Assert.Equal(7, setup.Heads.ClassLogits);
        Assert.Equal(64, setup.Heads.FeatureChannels);
    }
}
