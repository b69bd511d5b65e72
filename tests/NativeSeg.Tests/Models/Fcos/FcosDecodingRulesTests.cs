using NativeSeg.Engine.Tensors;
using NativeSeg.Models.Fcos;

namespace NativeSeg.Tests.Models.Fcos;

/// <summary>
/// The two ways BCNet's and AdelaiDet's FCOS decoders differ: which score the candidate threshold tests, and whether
/// the cut to the detections per image keeps ties (AdelaiDet's kthvalue) or not.
/// </summary>
public class FcosDecodingRulesTests
{
    /// <summary>
    /// One P3 row of four locations, 8 px apart, each with a 2×2 box that overlaps no other. Locations 0–2 score
    /// sigmoid(2)·sigmoid(2) for class 0, a three-way tie; location 3 has sigmoid(−1) ≈ 0.27 for class 0 but
    /// centre-ness sigmoid(−4) ≈ 0.018, so cls·ctr ≈ 0.005.
    /// </summary>
    private static FcosLevelOutput Level()
    {
        float[] logits = [2, 2, 2, -1, -10, -10, -10, -10];
        float[] regression = Enumerable.Repeat(1f, 16).ToArray();
        float[] centerness = [2, 2, 2, -4];
        return new FcosLevelOutput(Tensor.FromArray(logits, 1, 2, 1, 4), Tensor.FromArray(regression, 1, 4, 1, 4), Tensor.FromArray(centerness, 1, 1, 1, 4));
    }

    [Fact]
    public void AdelaiDetThresholdsClsTimesCtrAndKeepsTiesAtTheCut()
    {
        using var level = Level();
        var config = FcosConfig.AdelaiDet() with { Classes = 2, DetectionsPerImage = 2 };
        var found = new FcosPostprocess(config).RunTraced([level])[0];
        Assert.Equal(3, found.Detections.Count);
        Assert.Equal([0, 1, 2], found.Locations.Order());
        Assert.All(found.Levels, l => Assert.Equal(0, l));
    }

    [Fact]
    public void BcnetThresholdsClsAloneAndCutsExactly()
    {
        using var level = Level();
        var all = new FcosPostprocess(FcosConfig.Bcnet() with { Classes = 2 }).Run([level])[0];
        Assert.Equal(4, all.Count);
        Assert.Equal(MathF.Sqrt(Sigmoid(-1) * Sigmoid(-4)), all.Scores[^1], 1e-6f);
        var cut = new FcosPostprocess(FcosConfig.Bcnet() with { Classes = 2, DetectionsPerImage = 2 }).Run([level])[0];
        Assert.Equal(2, cut.Count);
    }

    private static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));
}
