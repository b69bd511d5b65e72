using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Tests.Models.Detection;

/// <summary>
/// The flavours' per-image cap and output order of detections (spec §4 "box post"): torchvision and detectron2 the
/// first by score, exactly the cap; maskrcnn-benchmark every score at least the cap-th (kthvalue), class by class.
/// </summary>
public class CapDetectionsTests
{
    // Candidates by descending score, as an NMS lists them: 0.9 (class 3), 0.8 (1), 0.7 (2), 0.7 (1), 0.6 (1).
    private static readonly List<int> NmsOrder = [4, 0, 2, 1, 3];
    private static readonly float[] Scores = [0.8f, 0.7f, 0.7f, 0.6f, 0.9f];
    private static readonly long[] Labels = [1, 2, 1, 1, 3];

    [Fact]
    public void TorchvisionAndDetectron2KeepTheCapInScoreOrder()
    {
        Assert.Equal([4, 0, 2], DetectionFlavour.Torchvision.CapDetections(NmsOrder, Scores, Labels, 3));
        Assert.Equal([4, 0, 2], DetectionFlavour.Detectron2.CapDetections(NmsOrder, Scores, Labels, 3));
    }

    [Fact]
    public void MaskRcnnBenchmarkKeepsTiesWithTheCapthScoreClassByClass()
    {
        Assert.Equal([0, 2, 1, 4], DetectionFlavour.MaskRcnnBenchmark.CapDetections(NmsOrder, Scores, Labels, 3));
        Assert.Equal([0, 2, 3, 1, 4], DetectionFlavour.MaskRcnnBenchmark.CapDetections(NmsOrder, Scores, Labels, 10));
    }
}
