using System.Text.Json.Nodes;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Registry;

namespace NativeSeg.Tests.Bcnet;

/// <summary>The key list `convert` checks a BCNet Faster R-CNN checkpoint against (specs/bcnet.md §2.1, §2.3).</summary>
public class BcnetFrcnnArchitectureTests
{
    private const string M = "roi_heads.mask_head.";

    /// <summary>The bilayer head's 48 keys as the spec lists them, at width <paramref name="c"/> with <paramref name="classes"/> predictor channels.</summary>
    private static Dictionary<string, int[]> BilayerKeys(int c, int classes)
    {
        var keys = new Dictionary<string, int[]>(StringComparer.Ordinal);
        for (int i = 1; i <= 4; i++)
        {
            keys[$"{M}mask_fcn{i}.weight"] = keys[$"{M}boundary_fcn{i}.weight"] = [c, c, 3, 3];
            keys[$"{M}mask_fcn{i}.bias"] = keys[$"{M}boundary_fcn{i}.bias"] = [c];
        }
        foreach (var name in new[] { "deconv", "boundary_deconv_bo", "boundary_deconv", "bo_deconv" })
        {
            keys[$"{M}{name}.weight"] = [c, c, 2, 2];
            keys[$"{M}{name}.bias"] = [c];
        }
        foreach (var suffix in new[] { "_bo", "" })
        {
            foreach (var t in new[] { "query", "key", "value", "output" }) keys[$"{M}{t}_transform_bound{suffix}.weight"] = [c, c, 1, 1];
            foreach (var f in new[] { "weight", "bias", "running_mean", "running_var" }) keys[$"{M}blocker_bound{suffix}.{f}"] = [c];
        }
        foreach (var name in new[] { "predictor", "predictor_bo", "boundary_predictor_bo", "boundary_predictor" })
        {
            keys[$"{M}{name}.weight"] = [classes, c, 1, 1];
            keys[$"{M}{name}.bias"] = [classes];
        }
        return keys;
    }

    [Theory]
    [InlineData(MaskRcnnArchitectures.BcnetR50, MaskRcnnArchitectures.Detectron2)]
    [InlineData(MaskRcnnArchitectures.BcnetR101, MaskRcnnArchitectures.Detectron2R101)]
    public void KeysAreDetectron2sWithTheBilayerMaskHead(string name, string detectron2)
    {
        var keys = Architectures.Find(name).ExpectedKeys;
        var bilayer = BilayerKeys(256, 1);
        Assert.Equal(48, bilayer.Count);
        foreach (var (key, shape) in bilayer) Assert.True(keys.TryGetValue(key, out var got) && got.SequenceEqual(shape), key);

        // Everything but the mask head is detectron2's Mask R-CNN, whose mask head has 12 keys.
        var plain = Architectures.Find(detectron2).ExpectedKeys;
        var outsideMaskHead = plain.Where(k => !k.Key.StartsWith(M, StringComparison.Ordinal)).ToList();
        Assert.Equal(plain.Count - 12, outsideMaskHead.Count);
        foreach (var (key, shape) in outsideMaskHead) Assert.True(keys.TryGetValue(key, out var got) && got.SequenceEqual(shape), key);
        Assert.Equal(outsideMaskHead.Count + bilayer.Count, keys.Count);
        Assert.Equal([256, 256, 3, 3], keys["proposal_generator.rpn_head.conv.weight"]);
        Assert.Equal([3, 256, 1, 1], keys["proposal_generator.rpn_head.objectness_logits.weight"]);
        Assert.Equal([1024, 256 * 7 * 7], keys["roi_heads.box_head.fc1.weight"]);
        Assert.Equal([81, 1024], keys["roi_heads.box_predictor.cls_score.weight"]);
        Assert.Equal([320, 1024], keys["roi_heads.box_predictor.bbox_pred.weight"]);

        var arch = Architectures.Find(name);
        Assert.Null(arch.MapKey(M + "blocker_bound_bo.num_batches_tracked"));
        Assert.Equal(M + "predictor.weight", arch.MapKey("module." + M + "predictor.weight"));
    }

    [Fact]
    public void ConfigSetsWidthAndClassSpecificPredictors()
    {
        var arch = MaskRcnnArchitecture.Configured(MaskRcnnArchitectures.BcnetR50, new JsonObject { ["fpn_channels"] = 64, ["cls_agnostic_mask"] = false });
        var keys = arch.ExpectedKeys;
        foreach (var (key, shape) in BilayerKeys(64, 80)) Assert.True(keys.TryGetValue(key, out var got) && got.SequenceEqual(shape), key);
        Assert.Equal([64, 64, 3, 3], keys["backbone.fpn_output2.weight"]);

        var setup = MaskRcnnArchitectures.FromMetadata(new Dictionary<string, string> { ["architecture"] = arch.Name, ["config"] = arch.ConfigJson }, "m");
        Assert.True(setup.Heads.BilayerMask);
        Assert.False(setup.Heads.ClassAgnosticMask);
        Assert.Equal(64, setup.Heads.MaskChannels);
        Assert.Equal(1333, setup.Preprocess.MaxSize);
    }

    [Fact]
    public void ClassAgnosticSettingBelongsToTheBilayerModelsAndTheirWidthIsOne()
    {
        Assert.Throws<FormatException>(() => MaskRcnnArchitecture.Configured(MaskRcnnArchitectures.Detectron2, new JsonObject { ["cls_agnostic_mask"] = true }));
        var error = Assert.Throws<FormatException>(() =>
            MaskRcnnArchitecture.Configured(MaskRcnnArchitectures.BcnetR101, new JsonObject { ["fpn_channels"] = 64, ["mask_conv_dim"] = 128 }));
        Assert.Contains("mask_conv_dim (128)", error.Message);
    }

    /// <summary>"mask_head": "bilayer" swaps the head of any Mask R-CNN, here the torchvision-layout default model's.</summary>
    [Fact]
    public void MaskHeadSettingPutsTheBilayerHeadInATorchvisionModel()
    {
        var arch = MaskRcnnArchitecture.Configured(MaskRcnnArchitectures.TorchvisionResNet18,
            new JsonObject { ["mask_head"] = "bilayer", ["fpn_channels"] = 64, ["mask_conv_dim"] = 64, ["num_classes"] = 7 });
        var keys = arch.ExpectedKeys;
        foreach (var (key, shape) in BilayerKeys(64, 1)) Assert.True(keys.TryGetValue(key, out var got) && got.SequenceEqual(shape), key);
        Assert.DoesNotContain(keys.Keys, k => k.StartsWith("roi_heads.mask_predictor.", StringComparison.Ordinal));
        Assert.Equal([7, 1024], keys["roi_heads.box_predictor.cls_score.weight"]);

        var setup = MaskRcnnArchitectures.FromMetadata(new Dictionary<string, string> { ["architecture"] = arch.Name, ["config"] = arch.ConfigJson }, "m");
        Assert.True(setup.Heads.BilayerMask);
        Assert.True(setup.Heads.ClassAgnosticMask);
        Assert.Equal(DetectionFlavour.Torchvision, setup.Heads.Flavour);

        var error = Assert.Throws<FormatException>(() => MaskRcnnArchitecture.Configured(MaskRcnnArchitectures.Torchvision, new JsonObject { ["mask_head"] = "double" }));
        Assert.Contains("\"standard\" or \"bilayer\"", error.Message);
    }
}
