using NativeSeg.Kernels.BoxIou;
using NativeSeg.Models.MaskRcnn.Training;

namespace NativeSeg.Tests.Models.MaskRcnn.Training;

public class MatcherTests
{
    [Fact]
    public void RpnMatchesTorchvisionMatcherWithLowQualityTies()
    {
        var gt = TrainingFixture.GroundTruth();
        var anchors = TrainingFixture.Floats("rpn.anchors");
        var targets = RpnTargets.Assign(anchors, gt, TrainingFixture.Torchvision);
        Assert.Equal(TrainingFixture.Longs("rpn.matched_idxs"), targets.Match.TorchvisionIndices());
    }

    [Fact]
    public void RpnMatchesDetectron2Matcher()
    {
        var targets = RpnTargets.Assign(TrainingFixture.Floats("rpn.anchors"), TrainingFixture.GroundTruth(), TrainingFixture.Detectron2);
        Assert.Equal(TrainingFixture.Longs("rpn.d2_matches").Select(m => (int)m), targets.Match.Matches);
        Assert.Equal(TrainingFixture.Ints("rpn.d2_labels").Select(l => (sbyte)l), targets.Match.Labels);
    }

    [Fact]
    public void ProposalsMatchTorchvisionAndDetectron2()
    {
        var gt = TrainingFixture.GroundTruth();
        var proposals = TrainingFixture.Floats("roi.proposals");
        var tv = ProposalTargets.Match(proposals, gt, TrainingFixture.Torchvision);
        Assert.Equal(TrainingFixture.Longs("roi.matched_idxs"), tv.Match.TorchvisionIndices());
        var d2 = ProposalTargets.Match(proposals, gt, TrainingFixture.Detectron2);
        Assert.Equal(TrainingFixture.Ints("roi.d2_labels").Select(l => (sbyte)l), d2.Match.Labels);
    }

    [Fact]
    public void EveryBoxTyingForAGtsBestIouBecomesForegroundButKeepsItsOwnBestGt()
    {
        // GT 0's best IoU 0.2 is shared by boxes 0 and 2; box 2 overlaps GT 1 more (0.25), so it stays matched to GT 1.
        float[] iou =
        [
            0.2f, 0.1f, 0.2f, 0.0f,
            0.0f, 0.6f, 0.25f, 0.0f,
        ];
        var m = Matcher.RpnAnchors.Match(iou, 2, 4);
        Assert.Equal(new sbyte[] { 1, 1, 1, 0 }, m.Labels);
        Assert.Equal(new[] { 0, 1, 1, 0 }, m.Matches);
        Assert.Equal(new long[] { 0, 1, 1, -1 }, m.TorchvisionIndices());
    }

    [Fact]
    public void GtWhoseBestIouIsZeroMakesEveryNonOverlappingBoxForeground()
    {
        // Upstream's quirk, kept: a GT no box touches has highest IoU 0, which every IoU-0 box ties.
        float[] iou = [0f, 0f, 0f, 0.9f, 0.1f, 0f];
        var m = Matcher.RpnAnchors.Match(iou, 2, 3);
        Assert.Equal(new sbyte[] { 1, 1, 1 }, m.Labels);
    }

    [Fact]
    public void WithoutGtEveryBoxIsBackground()
    {
        var m = Matcher.RpnAnchors.Match([], 0, 5);
        Assert.All(m.Labels, l => Assert.Equal(0, l));
        Assert.All(m.Matches, g => Assert.Equal(0, g));
        var empty = new NativeSeg.Models.MaskRcnn.Training.GroundTruth(10, 10, [], [], []);
        var rpn = RpnTargets.Assign([0, 0, 4, 4, 2, 2, 8, 8], empty, TrainingFixture.Torchvision);
        Assert.Equal(new sbyte[] { 0, 0 }, rpn.Match.Labels);
        Assert.All(rpn.Deltas, d => Assert.Equal(0f, d));
    }

    [Fact]
    public void RoiMatcherHasNoIgnoreBand()
    {
        var m = Matcher.RoiProposals.Match([0.49999f, 0.5f, 0.7f], 1, 3);
        Assert.Equal(new sbyte[] { 0, 1, 1 }, m.Labels);
    }

    [Fact]
    public void NanIouIsRejectedWithTheBoxNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => Matcher.RoiProposals.Match([0.1f, float.NaN], 1, 2));
        Assert.Contains("box 1", e.Message);
    }

    [Fact]
    public void BoundaryThresholdIgnoresAnchorsOutsideTheImage()
    {
        var gt = new NativeSeg.Models.MaskRcnn.Training.GroundTruth(20, 20, [0, 0, 10, 10], [1], [new NativeSeg.Engine.Formats.Coco.RleSegmentation(NativeSeg.Engine.Formats.Coco.Rle.FromRowMajor(new byte[400], 20, 20))]);
        float[] anchors = [-2, 0, 10, 10, 0, 0, 10, 10];
        var keepAll = RpnTargets.Assign(anchors, gt, TrainingFixture.Detectron2);
        var strict = RpnTargets.Assign(anchors, gt, TrainingFixture.Detectron2 with { AnchorBoundaryThreshold = 0 });
        Assert.Equal(new sbyte[] { 1, 1 }, keepAll.Match.Labels);
        Assert.Equal(new sbyte[] { -1, 1 }, strict.Match.Labels);
        Assert.Equal(IouZeroArea.Zero, TrainingFixture.Detectron2.IouZeroArea);
    }
}
