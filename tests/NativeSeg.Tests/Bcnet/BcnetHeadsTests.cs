using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.Fcos;

namespace NativeSeg.Tests.Bcnet;

/// <summary>The composed heads from P3–P5: FCOS detections, then the occludee masks of those detections.</summary>
public class BcnetHeadsTests
{
    [Fact]
    public void MasksOfTheTopDetectionsMatchTheReference()
    {
        using var fx = new BcnetFixture();
        var store = new ParameterStore(fx.Weights, Device.Cpu);
        using var heads = new BcnetHeads(store, new FcosConfig(InferenceThreshold: fx.InferenceThreshold, Channels: fx.Channels));
        Assert.Empty(store.Unused(k => k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)));

        var result = heads.Forward(fx.Features)[0];
        var referenceScores = fx.Floats("det.scores");
        Assert.Equal(referenceScores.Length, result.Boxes.Count);
        Assert.Equal(result.Boxes.Scores, result.MaskScores);

        // mask.probs holds the top detections' masks first, then the extra large boxes.
        const int side = 28;
        var expected = fx.Floats("mask.probs");
        int top = expected.Length / (side * side) - 4;
        var referenceLabels = fx.Longs("det.labels");
        for (int i = 0; i < top; i++) Assert.Equal(referenceLabels[i], result.Boxes.Labels[i]);
        using var ours = Tensor.FromArray(result.MaskProbs.AsSpan(0, top * side * side).ToArray(), top, side, side);
        BcnetFixture.AssertClose(expected.AsSpan(0, top * side * side).ToArray(), ours, 1e-4, "occludee masks of the top detections");
    }
}
