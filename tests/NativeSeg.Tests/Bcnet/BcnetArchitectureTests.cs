using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Conversion;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.Registry;

namespace NativeSeg.Tests.Bcnet;

public class BcnetArchitectureTests
{
    /// <summary>
    /// Counted from specs/bcnet.md §2: R50 bottom-up 265 (stem 5, 16 bottlenecks × 15, 4 shortcuts × 5), FPN 12,
    /// top block 4, FCOS head 43 (towers 32, predictors 6, scales 5), bilayer head 48.
    /// </summary>
    [Fact]
    public void KeyListFollowsTheSpec()
    {
        var arch = Architectures.Find(BcnetArchitecture.FcosR50Fpn);
        var keys = arch.ExpectedKeys;
        Assert.Equal(372, keys.Count);
        Assert.Equal([2048, 512, 1, 1], keys["backbone.bottom_up.res5.2.conv3.weight"]);
        Assert.Equal([256, 2048, 1, 1], keys["backbone.fpn_lateral5.weight"]);
        Assert.DoesNotContain("backbone.fpn_lateral2.weight", keys.Keys);
        Assert.Equal([256, 256, 3, 3], keys["backbone.top_block.p7.weight"]);
        Assert.Equal([80, 256, 3, 3], keys["head.cls_logits.weight"]);
        Assert.Equal([256], keys["head.bbox_tower.10.weight"]);
        Assert.Equal([1], keys["head.scales.4.scale"]);
        Assert.Equal([1, 256, 1, 1], keys["mask_head.predictor.weight"]);
        Assert.DoesNotContain("mask_head.query_transform_bound.bias", keys.Keys);
        Assert.DoesNotContain(keys.Keys, k => k.StartsWith("roi_heads.", StringComparison.Ordinal));
        Assert.Null(arch.MapKey("mask_head.blocker_bound.num_batches_tracked"));
        Assert.Equal("head.scales.0.scale", arch.MapKey("module.head.scales.0.scale"));
    }

    /// <summary>
    /// The released model's layout (fcos_imprv_R_101_FPN): R50's keys plus res4 blocks 6–22 (17 × 15), tested at
    /// Base-FCOS-test-2x's 800/1333 while the R50 config tests at 600/900.
    /// </summary>
    [Fact]
    public void R101AddsTheDeeperRes4AndTestsAtItsConfigsSize()
    {
        var r50 = Architectures.Find(BcnetArchitecture.FcosR50Fpn).ExpectedKeys;
        var r101 = Architectures.Find(BcnetArchitecture.FcosR101Fpn).ExpectedKeys;
        Assert.Equal(372 + 17 * 15, r101.Count);
        Assert.Equal([256, 1024, 1, 1], r101["backbone.bottom_up.res4.22.conv1.weight"]);
        Assert.DoesNotContain("backbone.bottom_up.res4.23.conv1.weight", r101.Keys);
        Assert.All(r50, k => Assert.Equal(k.Value, r101[k.Key]));
        Assert.Equal((600, 900), (BcnetArchitecture.R50.Preprocess.MinSize, BcnetArchitecture.R50.Preprocess.MaxSize));
        Assert.Equal((800, 1333), (BcnetArchitecture.R101.Preprocess.MinSize, BcnetArchitecture.R101.Preprocess.MaxSize));
        Assert.Equal(101, BcnetArchitecture.Named(BcnetArchitecture.FcosR101Fpn).Depth);
        Assert.Throws<NotSupportedException>(() => BcnetArchitecture.Named("bcnet-fcos-r152-fpn"));
    }

    /// <summary>Every head key of the list is one the heads load, and the heads need no other.</summary>
    [Fact]
    public void HeadsLoadExactlyTheirKeysOfTheList()
    {
        var keys = Architectures.Find(BcnetArchitecture.FcosR50Fpn).ExpectedKeys
            .Where(k => k.Key.StartsWith("head.", StringComparison.Ordinal) || k.Key.StartsWith("mask_head.", StringComparison.Ordinal)
                || k.Key.StartsWith("backbone.top_block.", StringComparison.Ordinal));
        var weights = keys.ToDictionary(k => k.Key, k => Tensor.Zeros(new Shape(k.Value), DType.Float32, Device.Cpu));
        try
        {
            var store = new ParameterStore(weights, Device.Cpu);
            using var heads = new BcnetHeads(store, new FcosConfig());
            Assert.Empty(store.Unused());
        }
        finally
        {
            foreach (var w in weights.Values) w.Dispose();
        }
    }
}
