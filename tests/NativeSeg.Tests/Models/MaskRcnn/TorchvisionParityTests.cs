using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Stage-by-stage parity with torchvision 0.14's maskrcnn_resnet50_fpn heads (fixture from
/// tests/reference/make_maskrcnn_fixtures.py): RPN proposals from the features, box-head outputs and final
/// detections from the reference's proposals, and the whole head pipeline from the features.
/// </summary>
public class TorchvisionParityTests(TorchvisionFixture fx) : IClassFixture<TorchvisionFixture>
{
    private const int MaskedTop = 50;

    [Fact]
    public void RpnProposalsMatch()
    {
        var proposals = fx.Heads.Propose(fx.Features, fx.Padded, [fx.Image])[0];
        float[] boxes = fx.Floats("rpn.boxes"), scores = fx.Floats("rpn.scores");
        Assert.Equal(scores.Length, proposals.Count);
        // Rank by rank; a near-tie may swap two neighbours, so allow a handful of misplaced ranks.
        int misplaced = 0;
        for (int i = 0; i < scores.Length; i++)
        {
            bool same = Math.Abs(proposals.Scores[i] - scores[i]) <= 1e-5f;
            for (int c = 0; c < 4; c++) same &= Math.Abs(proposals.Boxes[i * 4 + c] - boxes[i * 4 + c]) <= 1e-3f;
            if (!same) misplaced++;
        }
        Assert.True(misplaced <= scores.Length / 100, $"{misplaced} of {scores.Length} proposals differ from torchvision's");
    }

    [Fact]
    public void BoxHeadOutputsMatch()
    {
        var proposals = ReferenceProposals();
        var (logits, deltas) = fx.Heads.BoxOutputs(fx.Features, [proposals]);
        using (logits)
        using (deltas)
        {
            AssertRowsClose("box.logits", logits, 1e-3f);
            AssertRowsClose("box.deltas", deltas, 1e-3f);
        }
    }

    [Fact]
    public void DetectionsFromReferenceProposalsMatch()
    {
        var detections = fx.Heads.DetectBoxes(fx.Features, [ReferenceProposals()], [fx.Image]);
        var masks = fx.Heads.PredictMasks(fx.Features, detections)[0];
        AssertMaskProbsClose(masks);
        AssertParity(masks);
    }

    [Fact]
    public void HeadsFromFeaturesMatch()
    {
        var result = fx.Heads.Forward(fx.Features, fx.Padded, [fx.Image]);
        AssertParity(result[0]);
    }

    private BoxList ReferenceProposals()
    {
        float[] boxes = fx.Floats("rpn.boxes"), scores = fx.Floats("rpn.scores");
        return new BoxList(boxes, scores);
    }

    private void AssertParity(MaskDetections detections)
    {
        var instances = new InstancePostprocessor(fx.Heads.Config, Device.Cpu).Run(detections, fx.Geometry);
        var reference = ReferenceDetections();
        DetectionMatching.AssertParity(reference.Take(MaskedTop).ToList(), instances, fx.Geometry.OriginalWidth, fx.Geometry.OriginalHeight, "torchvision's heads");
        Assert.Equal(reference.Count, instances.Count);
    }

    /// <summary>The mask-head probabilities of the leading detections, which the two runs share when the boxes match.</summary>
    private void AssertMaskProbsClose(MaskDetections ours)
    {
        float[] expected = fx.Floats("det.mask_probs");
        float[] boxes = fx.Floats("det.image.boxes");
        int plane = ours.MaskSide * ours.MaskSide, compared = 0;
        for (int i = 0; i < expected.Length / plane && i < ours.Boxes.Count; i++)
        {
            bool sameBox = true;
            for (int c = 0; c < 4; c++) sameBox &= Math.Abs(ours.Boxes.Boxes[i * 4 + c] - boxes[i * 4 + c]) <= 1e-3f;
            if (!sameBox) continue;
            compared++;
            for (int p = 0; p < plane; p++)
            {
                float e = expected[i * plane + p], a = ours.MaskProbs[i * plane + p];
                Assert.True(Math.Abs(e - a) <= 1e-3f, $"detection {i} mask[{p}]: torchvision {e}, ours {a}");
            }
        }
        Assert.True(compared >= expected.Length / plane * 0.95, $"only {compared} detections had torchvision's box at the same rank");
    }

    private List<ReferenceDetection> ReferenceDetections()
    {
        float[] boxes = fx.Floats("det.boxes"), scores = fx.Floats("det.scores");
        using var labels = fx.File.Load("det.labels");
        using var packed = fx.File.Load("det.masks.packed");
        var l = labels.AsSpan<long>();
        var bits = packed.AsSpan<byte>();
        int rowBytes = packed.Shape[1], pixels = fx.Geometry.OriginalHeight * fx.Geometry.OriginalWidth;
        var result = new List<ReferenceDetection>();
        for (int i = 0; i < scores.Length; i++)
        {
            byte[]? mask = null;
            if (i < packed.Shape[0])
            {
                mask = new byte[pixels];
                for (int p = 0; p < pixels; p++) mask[p] = (byte)((bits[i * rowBytes + p / 8] >> (7 - p % 8)) & 1);
            }
            result.Add(new ReferenceDetection(boxes.AsSpan(i * 4, 4).ToArray(), scores[i], l[i], mask));
        }
        return result;
    }

    private void AssertRowsClose(string name, Tensor actual, float tolerance)
    {
        float[] expected = fx.Floats(name), ours = actual.ToArray<float>();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - ours[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])), $"{name}[{i}]: torchvision {expected[i]}, ours {ours[i]}");
    }
}
