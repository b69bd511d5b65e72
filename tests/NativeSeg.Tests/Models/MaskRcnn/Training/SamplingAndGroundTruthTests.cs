using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Randomness;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.MaskRcnn.Training;

namespace NativeSeg.Tests.Models.MaskRcnn.Training;

public class SamplingAndGroundTruthTests
{
    private static sbyte[] Labels(int positives, int negatives, int ignored) =>
        [.. Enumerable.Repeat((sbyte)1, positives), .. Enumerable.Repeat((sbyte)0, negatives), .. Enumerable.Repeat((sbyte)-1, ignored)];

    [Theory]
    [InlineData(500, 3000, 100, 512, 0.25, 128, 384)]
    [InlineData(40, 3000, 100, 512, 0.25, 40, 472)]
    [InlineData(500, 50, 0, 512, 0.25, 128, 50)]
    [InlineData(300, 5000, 10, 256, 0.5, 128, 128)]
    public void SamplerTakesTheBalancedCounts(int positives, int negatives, int ignored, int batch, double fraction, int wantPositive, int wantNegative)
    {
        var labels = Labels(positives, negatives, ignored);
        var s = BalancedSampler.Sample(labels, batch, fraction, new SplitMix64(7));
        Assert.Equal(wantPositive, s.Positive.Length);
        Assert.Equal(wantNegative, s.Negative.Length);
        Assert.Equal(s.Positive.Length, s.Positive.Distinct().Count());
        Assert.Equal(s.Negative.Length, s.Negative.Distinct().Count());
        Assert.All(s.Positive, i => Assert.Equal(1, labels[i]));
        Assert.All(s.Negative, i => Assert.Equal(0, labels[i]));
    }

    [Fact]
    public void SamplerIsReproducibleFromItsSeedAndVariesWithIt()
    {
        var labels = Labels(400, 2000, 50);
        var a = BalancedSampler.Sample(labels, 512, 0.25, new SplitMix64(42));
        var b = BalancedSampler.Sample(labels, 512, 0.25, new SplitMix64(42));
        var c = BalancedSampler.Sample(labels, 512, 0.25, new SplitMix64(43));
        Assert.Equal(a.Positive, b.Positive);
        Assert.Equal(a.Negative, b.Negative);
        Assert.NotEqual(a.Positive, c.Positive);
    }

    [Fact]
    public void SamplerDrawsUniformly()
    {
        // 20 positives, 5 taken per draw: each should be taken about 1/4 of the time.
        var labels = Labels(20, 0, 0);
        var rng = new SplitMix64(1);
        var counts = new int[20];
        for (int t = 0; t < 4000; t++)
            foreach (int i in BalancedSampler.Sample(labels, 10, 0.5, rng).Positive) counts[i]++;
        Assert.All(counts, n => Assert.InRange(n, 850, 1150));
    }

    [Fact]
    public void BuildOrdersRoisByFlavour()
    {
        var gt = TrainingFixture.GroundTruth();
        var proposals = TrainingFixture.Floats("roi.proposals");
        var model = MaskRcnnConfig.TorchvisionCoco();
        var tv = ProposalTargets.Build(proposals, gt, TrainingFixture.Torchvision, model, new SplitMix64(3));
        Assert.Equal(512, tv.Count);
        Assert.Equal(128, tv.Foreground(model).Length);
        var d2 = ProposalTargets.Build(proposals, gt, TrainingFixture.Detectron2, model, new SplitMix64(3));
        Assert.Equal(Enumerable.Range(0, 128), d2.Foreground(model));
    }

    [Fact]
    public void CocoGroundTruthDropsCrowdsAndEmptyBoxesAndClips()
    {
        var square = new PolygonSegmentation([[0, 0, 5, 0, 5, 5, 0, 5]]);
        CocoAnnotation[] annotations =
        [
            new() { Id = 1, CategoryId = 3, Box = new CocoBox(-5, 2, 20, 10), Segmentation = square },
            new() { Id = 2, CategoryId = 4, Box = new CocoBox(1, 1, 10, 10), Segmentation = square, IsCrowd = true },
            new() { Id = 3, CategoryId = 5, Box = new CocoBox(70, 1, 10, 10), Segmentation = square },
            new() { Id = 4, CategoryId = 6, Box = new CocoBox(3, 3, 0, 4), Segmentation = square },
        ];
        var tv = NativeSeg.Models.MaskRcnn.Training.GroundTruth.FromCoco(annotations, 40, 60, MaskRcnnConfig.TorchvisionCoco());
        Assert.Equal(new float[] { 0, 2, 15, 12 }, tv.Boxes);
        Assert.Equal(new[] { 3 }, tv.Classes);
        var d2 = NativeSeg.Models.MaskRcnn.Training.GroundTruth.FromCoco(annotations, 40, 60, MaskRcnnConfig.Detectron2Coco());
        Assert.Equal(new[] { 2 }, d2.Classes);
    }

    [Fact]
    public void UnknownCategoryIsNamed()
    {
        CocoAnnotation[] annotations = [new() { Id = 9, CategoryId = 12, Box = new CocoBox(0, 0, 5, 5), Segmentation = new PolygonSegmentation([[0, 0, 5, 0, 5, 5]]) }];
        var e = Assert.Throws<ArgumentException>(() => NativeSeg.Models.MaskRcnn.Training.GroundTruth.FromCoco(annotations, 10, 10, MaskRcnnConfig.Detectron2Coco()));
        Assert.Contains("category 12", e.Message);
    }
}
