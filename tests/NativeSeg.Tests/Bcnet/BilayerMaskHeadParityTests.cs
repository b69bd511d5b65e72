using NativeSeg.Engine.Devices;
using NativeSeg.Layers.Parameters;
using NativeSeg.Models.Bcnet;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.Detection;
using NativeSeg.Models.Detection.MaskHeads;

namespace NativeSeg.Tests.Bcnet;

/// <summary>
/// The bilayer mask head on ROIAlignV2 features over P3–P7 against make_bcnet_fixtures.py: the reference's top
/// detections plus large unclipped boxes that land on P4–P7.
/// </summary>
public class BilayerMaskHeadParityTests
{
    [Fact]
    public void AllFourOutputsMatchTheReference()
    {
        using var fx = new BcnetFixture();
        var store = new ParameterStore(fx.Weights, Device.Cpu);
        using var head = new BilayerMaskHead(store, fx.Channels);
        Assert.Empty(store.Unused(k => !k.StartsWith("mask_head.", StringComparison.Ordinal) || k.EndsWith(".num_batches_tracked", StringComparison.Ordinal)));
        Assert.Equal([0L, 1, 2, 3, 4], fx.Longs("mask.levels").Distinct().Order());

        using var p6 = fx.File.Load("p6");
        using var p7 = fx.File.Load("p7");
        var boxes = fx.Floats("mask.boxes");
        using var pooled = PyramidRoiPooler.Pool([.. fx.Features, p6, p7], [new BoxList(boxes, new float[boxes.Length / 4])]);
        var labels = new int[boxes.Length / 4];
        using var probs = head.Forward(pooled, labels);
        Assert.Equal([boxes.Length / 4, BilayerMaskHead.MaskSide, BilayerMaskHead.MaskSide], probs.Shape.ToArray());
        BcnetFixture.AssertClose(fx.Floats("mask.probs"), probs, 1e-4, "occludee mask probabilities");

        using var explained = head.Explain(pooled, labels);
        BcnetFixture.AssertClose(fx.Floats("mask.probs"), explained.OccludeeMask, 1e-4, "explained occludee mask");
        BcnetFixture.AssertClose(fx.Floats("mask.boundary_probs"), explained.OccludeeBoundary, 1e-4, "occludee boundary");
        BcnetFixture.AssertClose(fx.Floats("mask.occluder_probs"), explained.OccluderMask, 1e-4, "occluder mask");
        BcnetFixture.AssertClose(fx.Floats("mask.occluder_boundary_probs"), explained.OccluderBoundary, 1e-4, "occluder boundary");
    }
}
