using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.Detection.Flavours;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.MaskRcnn.Training;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.MaskRcnn.Training;

/// <summary>RPN, proposal and mask targets against torchvision 0.14, fed the indices torch's sampler drew.</summary>
public class TargetParityTests
{
    private static readonly MaskRcnnConfig Model = MaskRcnnConfig.TorchvisionCoco();

    private static int[] AsInts(long[] values) => [.. values.Select(v => (int)v)];

    [Fact]
    public void RpnLabelsAndRegressionMatchAssignTargetsToAnchors()
    {
        var targets = RpnTargets.Assign(TrainingFixture.Floats("rpn.anchors"), TrainingFixture.GroundTruth(), TrainingFixture.Torchvision);
        var expectedLabels = TrainingFixture.Floats("rpn.labels");
        Assert.Equal(expectedLabels.Select(l => (sbyte)l), targets.Match.Labels);
        var expected = TrainingFixture.Floats("rpn.regression");
        var positive = Enumerable.Range(0, expectedLabels.Length).Where(i => expectedLabels[i] == 1).ToArray();
        Assert.NotEmpty(positive);
        double error = TrainingFixture.RelativeError(
            [.. positive.SelectMany(i => expected[(i * 4)..(i * 4 + 4)])], [.. positive.SelectMany(i => targets.Deltas[(i * 4)..(i * 4 + 4)])]);
        Assert.True(error <= 1e-5, $"RPN regression relative error {error:G3}");
    }

    [Fact]
    public void RpnSampledLabelsFollowTheSampledIndices()
    {
        var targets = RpnTargets.Assign(TrainingFixture.Floats("rpn.anchors"), TrainingFixture.GroundTruth(), TrainingFixture.Torchvision);
        var sampled = new SampledIndices(AsInts(TrainingFixture.Longs("rpn.sampled_pos")), AsInts(TrainingFixture.Longs("rpn.sampled_neg")));
        var labels = targets.SampledLabels(sampled);
        Assert.Equal(256, labels.Count(l => l >= 0));
        Assert.Equal(sampled.Positive.Length, labels.Count(l => l == 1));
        Assert.All(sampled.Positive, i => Assert.Equal(1, targets.Match.Labels[i]));
        Assert.All(sampled.Negative, i => Assert.Equal(0, targets.Match.Labels[i]));
    }

    [Fact]
    public void ProposalTargetsMatchSelectTrainingSamples()
    {
        var gt = TrainingFixture.GroundTruth();
        var config = TrainingFixture.Torchvision;
        var matching = ProposalTargets.Match(TrainingFixture.Floats("roi.proposals"), gt, config);
        Assert.Equal(TrainingFixture.Longs("roi.labels").Select(l => l == 0 ? 0L : l < 0 ? -1L : 1L), matching.Match.Labels.Select(l => (long)l));
        var sampled = new SampledIndices(AsInts(TrainingFixture.Longs("roi.sampled_pos")), AsInts(TrainingFixture.Longs("roi.sampled_neg")));
        var targets = ProposalTargets.Select(matching, sampled, gt, config, Model);

        Assert.Equal(TrainingFixture.Floats("roi.out.proposals"), targets.Boxes);
        var labels = TrainingFixture.Longs("roi.out.labels");
        Assert.Equal(labels.Select(l => (int)l), targets.Classes);
        var fg = targets.Foreground(Model);
        Assert.Equal(128, fg.Length);
        var matched = TrainingFixture.Longs("roi.out.matched_idxs");
        Assert.All(fg, i => Assert.Equal(matched[i], targets.MatchedGt[i]));
        var regression = TrainingFixture.Floats("roi.out.regression");
        double error = TrainingFixture.RelativeError(
            [.. fg.SelectMany(i => regression[(i * 4)..(i * 4 + 4)])], [.. fg.SelectMany(i => targets.Deltas[(i * 4)..(i * 4 + 4)])]);
        Assert.True(error <= 1e-5, $"box-head regression relative error {error:G3}");
    }

    [Fact]
    public void TorchvisionMaskTargetsMatchProjectMasksOnBoxes()
    {
        var targets = MaskTargets.Build(TrainingFixture.GroundTruth(), TrainingFixture.Floats("mask.boxes"),
            AsInts(TrainingFixture.Longs("mask.matched")), DetectionFlavour.Torchvision.MaskTargets, 28);
        double error = TrainingFixture.RelativeError(TrainingFixture.Floats("mask.torchvision"), targets);
        Assert.True(error <= 1e-4, $"mask targets relative error {error:G3}");
    }

    [Fact]
    public void Detectron2BitmaskTargetsMatchCropAndResize()
    {
        var targets = MaskTargets.Build(TrainingFixture.GroundTruth(), TrainingFixture.Floats("mask.boxes"),
            AsInts(TrainingFixture.Longs("mask.matched")), DetectionFlavour.Detectron2.MaskTargets, 28);
        Assert.Equal(TrainingFixture.Bytes("mask.detectron2_bitmask").Select(b => (float)b), targets);
    }

    [Fact]
    public void Detectron2PolygonTargetsRasteriseInsideTheBox()
    {
        // A polygon equal to the box fills the 28×28 target; one over the box's left half fills its left 14 columns.
        var gt = new NativeSeg.Models.MaskRcnn.Training.GroundTruth(100, 100, [10, 20, 66, 48, 10, 20, 66, 48], [1, 2],
        [
            new PolygonSegmentation([[10, 20, 66, 20, 66, 48, 10, 48]]),
            new PolygonSegmentation([[10, 20, 38, 20, 38, 48, 10, 48]]),
        ]);
        var targets = MaskTargets.Build(gt, [10, 20, 66, 48, 10, 20, 66, 48], [0, 1], DetectionFlavour.Detectron2.MaskTargets, 28);
        Assert.All(targets[..784], v => Assert.Equal(1f, v));
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                Assert.Equal(x < 14 ? 1f : 0f, targets[784 + y * 28 + x]);
    }
}
