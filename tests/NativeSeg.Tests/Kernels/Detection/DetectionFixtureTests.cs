using NativeSeg.Engine.Formats.Safetensors;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.MaskPaste;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Tests.Formats;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using MaskPasteOp = NativeSeg.Kernels.MaskPaste.MaskPaste;
using NmsOp = NativeSeg.Kernels.Nms.Nms;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Tests.Kernels.Detection;

/// <summary>The CPU detection ops against torchvision 0.14 / spec references from tests/reference/make_detection_fixtures.py.</summary>
public class DetectionFixtureTests
{
    private static readonly float[] Scales = [1f / 4, 1f / 8, 1f / 16, 1f / 32];

    [Theory]
    [InlineData("aligned_s0_7x7", true, 0, 7, 7)]
    [InlineData("legacy_s2_7x7", false, 2, 7, 7)]
    [InlineData("aligned_s2_5x4", true, 2, 5, 4)]
    [InlineData("legacy_s0_14x14", false, 0, 14, 14)]
    public void RoiAlignMatchesTorchvision(string name, bool aligned, int sampling, int outH, int outW)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("detection_roi_align.safetensors"));
        var features = Enumerable.Range(0, 4).Select(l => file.Load($"features.{l}")).ToList();
        try
        {
            using var rois = file.Load("rois");
            using var levels = file.Load("levels.random");
            using var expected = file.Load(name + ".out");
            using var actual = RoiAlignOp.Forward(features, Scales, rois, levels, new RoiAlignOptions(outH, outW, sampling, aligned));
            Assert.Equal(expected.Shape, actual.Shape);
            float[] e = expected.AsSpan<float>().ToArray(), a = actual.AsSpan<float>().ToArray();
            for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-5f, $"{name}[{i}]: torchvision {e[i]}, ours {a[i]}");
        }
        finally
        {
            foreach (var f in features) f.Dispose();
        }
    }

    [Theory]
    [InlineData("detectron2", LevelRule.Detectron2)]
    [InlineData("torchvision", LevelRule.Torchvision)]
    [InlineData("maskrcnn_benchmark", LevelRule.MaskRcnnBenchmark)]
    public void LevelRulesMatchTheReferences(string name, LevelRule rule)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("detection_roi_align.safetensors"));
        using var boxes = file.Load("level_boxes");
        using var expected = file.Load("level_boxes." + name);
        using var actual = RoiAlignOp.AssignLevels(boxes, rule);
        Assert.Equal(expected.AsSpan<int>().ToArray(), actual.AsSpan<int>().ToArray());
    }

    [Theory]
    [InlineData("ties", 0.5f, false)]
    [InlineData("rpn", 0.7f, false)]
    [InlineData("one_score", 0.3f, false)]
    [InlineData("plus_one", 0.5f, true)]
    public void BatchedNmsMatchesTorchvision(string name, float threshold, bool plusOne)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("detection_nms.safetensors"));
        using var boxes = file.Load(name + ".boxes");
        using var scores = file.Load(name + ".scores");
        using var classes = file.Load(name + ".idxs");
        using var expected = file.Load(name + ".keep");
        using var keep = NmsOp.Batched(boxes, scores, classes, threshold, plusOne);
        Assert.Equal(expected.AsSpan<long>().ToArray(), keep.AsSpan<long>().ToArray());
    }

    [Theory]
    [InlineData("detectron2_roi_clip", BoxConvention.Detectron2, 10, 5, true)]
    [InlineData("rpn_no_clip", BoxConvention.Detectron2, 1, 1, false)]
    [InlineData("maskrcnn_benchmark_roi_clip", BoxConvention.MaskRcnnBenchmark, 10, 5, true)]
    public void BoxDecodeMatchesTheReferences(string name, BoxConvention convention, float centreWeight, float sizeWeight, bool clip)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("detection_box_coder.safetensors"));
        using var boxes = file.Load("boxes");
        using var deltas = file.Load("deltas");
        using var expected = file.Load(name + ".out");
        var weights = new BoxWeights(centreWeight, centreWeight, sizeWeight, sizeWeight);
        using var actual = BoxCoderOp.Decode(deltas, boxes, weights, convention, clip ? (61, 83) : null);
        Assert.Equal(expected.Shape, actual.Shape);
        float[] e = expected.AsSpan<float>().ToArray(), a = actual.AsSpan<float>().ToArray();
        // exp() may differ from torch's by an ulp, and an edge is centre ± half-width with both terms up to
        // ~5000 pixels (float32 ulp 5e-4), so a small edge can carry the cancellation error of large terms.
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-3f, $"{name}[{i}]: reference {e[i]}, ours {a[i]}");
    }

    [Fact]
    public void SmallBoxMaskMatchesRemoveSmallBoxes()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("detection_box_coder.safetensors"));
        using var boxes = file.Load("small.boxes");
        using var expected = file.Load("small.keep");
        using var keep = BoxCoderOp.KeepMask(boxes, 1e-3f);
        Assert.Contains((byte)0, expected.AsSpan<byte>().ToArray());
        Assert.Equal(expected.AsSpan<byte>().ToArray(), keep.AsSpan<byte>().ToArray());
    }

    [Theory]
    [InlineData("detectron2", PasteMethod.Detectron2)]
    [InlineData("torchvision", PasteMethod.Torchvision)]
    public void MaskPasteMatchesTheReferences(string name, PasteMethod method)
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("detection_mask_paste.safetensors"));
        using var masks = file.Load("masks");
        using var boxes = file.Load("boxes");
        using var expected = file.Load(name + ".out");
        var rles = MaskRleEncoder.Encode(masks, boxes, expected.Shape[1], expected.Shape[2], method);
        Assert.Equal(expected.Shape[0], rles.Length);
        byte[] e = expected.AsSpan<byte>().ToArray(), a = [.. rles.SelectMany(r => r.ToRowMajor())];
        int plane = expected.Shape[1] * expected.Shape[2];
        for (int i = 0; i < e.Length; i++)
            Assert.True(e[i] == a[i], $"{name}: mask {i / plane} pixel ({i % plane / expected.Shape[2]}, {i % expected.Shape[2]}): reference {e[i]}, ours {a[i]}");
    }

    [Fact]
    public void TorchvisionPasteProbabilitiesMatch()
    {
        using var file = SafetensorsFile.Open(FixturePaths.Fixture("detection_mask_paste.safetensors"));
        using var masks = file.Load("masks");
        using var boxes = file.Load("boxes");
        using var expected = file.Load("torchvision.probs");
        int n = expected.Shape[0];
        using var someMasks = masks.Slice(0, n);
        using var someBoxes = boxes.Slice(0, n);
        using var actual = MaskPasteOp.PasteProbabilities(someMasks, someBoxes, expected.Shape[1], expected.Shape[2]);
        Assert.Equal(expected.Shape, actual.Shape);
        float[] e = expected.AsSpan<float>().ToArray(), a = actual.AsSpan<float>().ToArray();
        Assert.Contains(e, v => v > 0.5f);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-6f, $"probs[{i}]: torchvision {e[i]}, ours {a[i]}");
    }
}
