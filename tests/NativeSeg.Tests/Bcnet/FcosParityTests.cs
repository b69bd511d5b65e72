using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Fcos;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Tests.Models.MaskRcnn;
using NativeSeg.Models.Detection;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// BCNet's FCOS (top block, head, post-processing) against the PyTorch reimplementation of specs/bcnet.md in
/// tests/reference/make_bcnet_fixtures.py, with weights under BCNet's keys.
/// </summary>
public class FcosParityTests
{
    [Fact]
    public void TopBlockHeadAndDetectionsMatchTheReference()
    {
        using var fx = new BcnetFixture();
        var store = new ParameterStore(fx.Weights, Device.Cpu);
        var config = new FcosConfig(InferenceThreshold: fx.InferenceThreshold, Channels: fx.Channels);
        using var top = new FcosTopBlock(store, fx.Channels);
        using var head = new FcosHead(store, config);
        Assert.Empty(store.Unused(k => k.StartsWith("mask_head.", StringComparison.Ordinal)));

        var top67 = top.Forward(fx.Features[2]);
        var (p6, p7) = (top67[0], top67[1]);
        using (p6)
        using (p7)
        {
            BcnetFixture.AssertClose(fx.Floats("p6"), p6, 1e-4, "P6");
            BcnetFixture.AssertClose(fx.Floats("p7"), p7, 1e-4, "P7");
            var outputs = head.Forward([.. fx.Features, p6, p7]);
            try
            {
                for (int l = 0; l < outputs.Count; l++)
                {
                    BcnetFixture.AssertClose(fx.Floats($"head.{l}.logits"), outputs[l].Logits, 1e-4, $"P{l + 3} logits");
                    BcnetFixture.AssertClose(fx.Floats($"head.{l}.reg"), outputs[l].Regression, 1e-4, $"P{l + 3} regression");
                    BcnetFixture.AssertClose(fx.Floats($"head.{l}.ctr"), outputs[l].Centerness, 1e-4, $"P{l + 3} centre-ness");
                }
                var ours = new FcosPostprocess(config).Run(outputs)[0];
                var (matched, total) = Match(fx, ours, 50);
                Assert.True(matched >= 0.95 * total, $"{matched} of the reference's top {total} detections matched");
            }
            finally
            {
                foreach (var o in outputs) o.Dispose();
            }
        }
    }

    /// <summary>On the reference's own head outputs, post-processing alone must reproduce every detection.</summary>
    [Fact]
    public void PostprocessOnReferenceOutputsKeepsEveryDetection()
    {
        using var fx = new BcnetFixture();
        var config = new FcosConfig(InferenceThreshold: fx.InferenceThreshold, Channels: fx.Channels);
        var outputs = Enumerable.Range(0, FcosConfig.Strides.Count).Select(l => new FcosLevelOutput(
            fx.File.Load($"head.{l}.logits"), fx.File.Load($"head.{l}.reg"), fx.File.Load($"head.{l}.ctr"))).ToList();
        try
        {
            var ours = new FcosPostprocess(config).Run(outputs)[0];
            var reference = fx.Floats("det.scores");
            Assert.Equal(reference.Length, ours.Count);
            var (matched, total) = Match(fx, ours, reference.Length);
            Assert.Equal(total, matched);
        }
        finally
        {
            foreach (var o in outputs) o.Dispose();
        }
    }

    /// <summary>The detection criterion: same label, box IoU ≥ 0.98, |Δscore| ≤ 0.01, each of ours used once.</summary>
    private static (int Matched, int Total) Match(BcnetFixture fx, Detections ours, int top)
    {
        var boxes = fx.Floats("det.boxes");
        var scores = fx.Floats("det.scores");
        var labels = fx.Longs("det.labels");
        int total = Math.Min(top, scores.Length), matched = 0;
        var used = new bool[ours.Count];
        for (int i = 0; i < total; i++)
        {
            float[] box = boxes.AsSpan(i * 4, 4).ToArray();
            int best = -1;
            double bestIou = 0;
            for (int j = 0; j < ours.Count; j++)
            {
                if (used[j] || ours.Labels[j] != labels[i] || Math.Abs(ours.Scores[j] - scores[i]) > 0.01) continue;
                double iou = DetectionMatching.BoxIou(box, ours.Boxes.AsSpan(j * 4, 4).ToArray());
                if (iou >= 0.98 && iou > bestIou) (best, bestIou) = (j, iou);
            }
            if (best < 0) continue;
            used[best] = true;
            matched++;
        }
        return (matched, total);
    }
}
