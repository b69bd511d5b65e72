using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Formats;
using NativeSeg.Tests.Layers;
using NativeSeg.Models.Registry;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>The key list `nativeseg convert` checks against, compared with a full torchvision-layout state dict.</summary>
public class MaskRcnnArchitectureTests
{
    [Fact]
    public void TorchvisionKeysAreTheBackboneAndHeadTensors()
    {
        using var fixture = SafetensorsFile.Open(FixturePaths.Fixture("maskrcnn_torchvision.safetensors"));
        var expected = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var (name, t) in BackboneWeights.Torchvision)
            if (!name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) expected[name] = t.Shape.ToArray();
        foreach (string key in fixture.Metadata.Keys.Where(k => k.StartsWith("shape.rpn.", StringComparison.Ordinal) || k.StartsWith("shape.roi_heads.", StringComparison.Ordinal)))
            expected[key["shape.".Length..]] = fixture.Metadata[key].Split(',').Select(int.Parse).ToArray();

        var arch = Architectures.Find(MaskRcnnArchitectures.Torchvision);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), arch.ExpectedKeys.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected) Assert.True(shape.SequenceEqual(arch.ExpectedKeys[name]), name);
        Assert.Null(arch.MapKey("backbone.body.bn1.num_batches_tracked"));
        Assert.Equal("rpn.head.conv.0.0.weight", arch.MapKey("module.rpn.head.conv.0.0.weight"));
    }

    [Fact]
    public void MsRcnnKeysIncludeTheMaskIouHead()
    {
        var keys = Architectures.Find(MaskRcnnArchitectures.MsRcnn).ExpectedKeys;
        Assert.Equal([256, 257, 3, 3], keys["roi_heads.maskiou.feature_extractor.maskiou_fcn1.weight"]);
        Assert.Equal([81, 1024], keys["roi_heads.maskiou.predictor.maskiou.weight"]);
        Assert.Equal([324, 1024], keys["roi_heads.box.predictor.bbox_pred.weight"]);
        Assert.Equal([64], keys["backbone.body.stem.bn1.running_var"]);
    }

    [Theory]
    [InlineData(MaskRcnnArchitectures.Detectron2, MaskRcnnArchitectures.Detectron2R101, "backbone.bottom_up.res4.22.conv2.norm.running_var")]
    [InlineData(MaskRcnnArchitectures.MsRcnn, MaskRcnnArchitectures.MsRcnnR101, "backbone.body.layer3.22.bn2.running_var")]
    public void R101AddsSeventeenRes4Blocks(string r50, string r101, string lastBlockKey)
    {
        var small = Architectures.Find(r50).ExpectedKeys;
        var large = Architectures.Find(r101).ExpectedKeys;
        // Each bottleneck: three bias-free convs and three frozen norms of four tensors.
        Assert.Equal(17 * (3 + 3 * 4), large.Count - small.Count);
        Assert.True(small.Keys.All(large.ContainsKey));
        Assert.Equal([256], large[lastBlockKey]);
        Assert.DoesNotContain(lastBlockKey, small.Keys);
    }
}
