using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.MaskPaste;
using NativeSeg.Kernels.RoiAlign;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using MaskPasteOp = NativeSeg.Kernels.MaskPaste.MaskPaste;
using NmsOp = NativeSeg.Kernels.Nms.Nms;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Tests.Kernels.Detection;

/// <summary>Hand-checkable cases and argument errors of the detection ops on the CPU.</summary>
public class DetectionOpTests
{
    [Fact]
    public void RoiAlignOfAConstantMapIsTheConstantInsideAndFadesOutside()
    {
        using var map = Tensor.FromArray(Enumerable.Repeat(3f, 6 * 8).ToArray(), 1, 1, 6, 8);
        // One RoI well inside, one entirely left of the map (every sample at x < -1 contributes 0).
        using var rois = Tensor.FromArray(new float[] { 0, 1, 1, 5, 4, 0, -20, 1, -12, 4 }, 2, 5);
        using var levels = Tensor.FromArray(new[] { 0, 0 }, 2);
        using var pooled = RoiAlignOp.Forward([map], [1f], rois, levels, new RoiAlignOptions(2, 3, 0, true));
        var v = pooled.AsSpan<float>();
        for (int i = 0; i < 6; i++) Assert.Equal(3f, v[i], 5);
        for (int i = 6; i < 12; i++) Assert.Equal(0f, v[i]);
    }

    [Fact]
    public void RoiAlignNamesTheOpAndTheShapes()
    {
        using var map = Tensor.Zeros(new Shape(1, 2, 4, 4), DType.Float32, Device.Cpu);
        using var rois = Tensor.Zeros(new Shape(3, 4), DType.Float32, Device.Cpu);
        using var levels = Tensor.Zeros(new Shape(3), DType.Int32, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => RoiAlignOp.Forward([map], [0.25f], rois, levels, new RoiAlignOptions(7, 7, 0, true)));
        Assert.Contains("roi_align", e.Message);
        Assert.Contains("[3, 4]", e.Message);
    }

    [Fact]
    public void RoiAlignRejectsALevelOutsideTheFeatureList()
    {
        using var map = Tensor.Zeros(new Shape(1, 1, 4, 4), DType.Float32, Device.Cpu);
        using var rois = Tensor.FromArray(new float[] { 0, 0, 0, 2, 2 }, 1, 5);
        using var levels = Tensor.FromArray(new[] { 1 }, 1);
        var e = Assert.Throws<ArgumentException>(() => RoiAlignOp.Forward([map], [1f], rois, levels, new RoiAlignOptions(2, 2, 2, false)));
        Assert.Contains("level 1", e.Message);
    }

    [Fact]
    public void NmsKeepsTheLowerIndexAmongTiesAndNeverSuppressesAcrossClasses()
    {
        // Boxes 0 and 1 are identical with equal scores (class 0): 0 survives. Box 2 is the same box in class 1.
        using var boxes = Tensor.FromArray(new float[] { 0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 50, 50, 60, 60 }, 4, 4);
        using var scores = Tensor.FromArray(new[] { 0.5f, 0.5f, 0.4f, 0.9f }, 4);
        using var classes = Tensor.FromArray(new long[] { 0, 0, 1, 0 }, 4);
        using var keep = NmsOp.Batched(boxes, scores, classes, 0.5f);
        Assert.Equal(new long[] { 3, 0, 2 }, keep.AsSpan<long>().ToArray());
        var (padded, count) = NmsOp.BatchedPadded(boxes, scores, classes, 0.5f);
        using (padded)
        using (count)
        {
            Assert.Equal(new long[] { 3, 0, 2, -1 }, padded.AsSpan<long>().ToArray());
            Assert.Equal(3, count.AsSpan<long>()[0]);
        }
    }

    [Fact]
    public void SegmentedNmsKeepsSegmentsApartAndIndexesWithinEach()
    {
        // Both segments hold the same four boxes: segment 0 the scores above, segment 1 others and one class. What a
        // segment keeps is what it would keep alone, as indices into itself; the identical boxes of the other
        // segment suppress nothing.
        float[] box = [0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10, 50, 50, 60, 60];
        using var boxes = Tensor.FromArray([.. box, .. box], 2, 4, 4);
        using var scores = Tensor.FromArray(new[] { 0.5f, 0.5f, 0.4f, 0.9f, 0.1f, 0.2f, 0.3f, float.NegativeInfinity }, 2, 4);
        using var classes = Tensor.FromArray(new long[] { 0, 0, 1, 0, 0, 0, 0, -1 }, 2, 4);
        var (keep, count) = NmsOp.Segmented(boxes, scores, classes, 0.5f);
        using (keep)
        using (count)
        {
            Assert.Equal(new long[] { 3, 0, 2, -1, 2, 3, -1, -1 }, keep.AsSpan<long>().ToArray());
            Assert.Equal(new long[] { 3, 2 }, count.AsSpan<long>().ToArray());
        }
    }

    [Fact]
    public void SegmentedNmsNamesMismatchedSegments()
    {
        using var boxes = Tensor.Zeros(new Shape(3, 5, 4), DType.Float32, Device.Cpu);
        using var scores = Tensor.Zeros(new Shape(2, 5), DType.Float32, Device.Cpu);
        using var classes = Tensor.Zeros(new Shape(3, 5), DType.Int64, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => NmsOp.Segmented(boxes, scores, classes, 0.5f));
        Assert.Contains("batched_nms", e.Message);
        Assert.Contains("[2, 5]", e.Message);
    }

    [Fact]
    public void NmsPlusOneTurnsTouchingBoxesIntoOverlappingOnes()
    {
        // [0,9] and [5,14]: IoU 4/14 without +1, 5/15 with it; a threshold of 0.3 separates the two.
        using var boxes = Tensor.FromArray(new float[] { 0, 0, 9, 9, 5, 0, 14, 9 }, 2, 4);
        using var scores = Tensor.FromArray(new[] { 0.9f, 0.8f }, 2);
        using var classes = Tensor.FromArray(new long[] { 0, 0 }, 2);
        using var plain = NmsOp.Batched(boxes, scores, classes, 0.3f);
        using var plusOne = NmsOp.Batched(boxes, scores, classes, 0.3f, plusOne: true);
        Assert.Equal(2, plain.Shape[0]);
        Assert.Equal(new long[] { 0 }, plusOne.AsSpan<long>().ToArray());
    }

    [Fact]
    public void NmsNamesMismatchedLengths()
    {
        using var boxes = Tensor.Zeros(new Shape(5, 4), DType.Float32, Device.Cpu);
        using var scores = Tensor.Zeros(new Shape(4), DType.Float32, Device.Cpu);
        using var classes = Tensor.Zeros(new Shape(5), DType.Int64, Device.Cpu);
        var e = Assert.Throws<ArgumentException>(() => NmsOp.Batched(boxes, scores, classes, 0.5f));
        Assert.Contains("batched_nms", e.Message);
        Assert.Contains("[4]", e.Message);
    }

    [Fact]
    public void DecodeClampsTheSizeDeltaAndHonoursTheConventions()
    {
        using var boxes = Tensor.FromArray(new float[] { 10, 10, 20, 30 }, 1, 4);
        // dw = 100 is clamped to log(1000/16): the width grows 62.5 times.
        using var deltas = Tensor.FromArray(new float[] { 0, 0, 100, 0 }, 1, 4);
        using var d2 = BoxCoderOp.Decode(deltas, boxes, BoxWeights.Rpn, BoxConvention.Detectron2, null);
        // exp of the float32 clamp is 62.5 only to within an ulp.
        Assert.Equal(new[] { 15 - 312.5f, 10, 15 + 312.5f, 30 }, d2.AsSpan<float>().ToArray(), (a, b) => Math.Abs(a - b) <= 1e-3f);
        using var mb = BoxCoderOp.Decode(deltas, boxes, BoxWeights.Rpn, BoxConvention.MaskRcnnBenchmark, (100, 50));
        // +1 sides: height 21, centre 20.5, so y2 = 20.5 + 10.5 − 1 = 30; x is clipped to [0, 49] (width − 1).
        Assert.Equal(new[] { 0f, 10, 49, 30 }, mb.AsSpan<float>().ToArray());
    }

    [Theory]
    // detectron2 covers exactly the pixels whose centres lie in the box [2, 12) × [3, 9).
    [InlineData(PasteMethod.Detectron2, 2, 11, 3, 8)]
    // torchvision expands the box by 30/28 about its centre (x 1.64..12.36, y 2.79..9.21), truncates to
    // [1, 12] × [2, 9] and pastes there; the padded zero border stays below 0.5 after resizing.
    [InlineData(PasteMethod.Torchvision, 1, 12, 2, 9)]
    public void PastingAMaskOfOnesFillsItsBox(PasteMethod method, int xFirst, int xLast, int yFirst, int yLast)
    {
        using var masks = Tensor.FromArray(Enumerable.Repeat(1f, 28 * 28).ToArray(), 1, 28, 28);
        using var boxes = Tensor.FromArray(new float[] { 2, 3, 12, 9 }, 1, 4);
        var v = MaskRleEncoder.Encode(masks, boxes, 15, 20, method)[0].ToRowMajor();
        for (int y = 0; y < 15; y++)
        for (int x = 0; x < 20; x++)
        {
            bool inside = x >= xFirst && x <= xLast && y >= yFirst && y <= yLast;
            Assert.True(inside == (v[y * 20 + x] == 1), $"{method}: pixel ({y}, {x})");
        }
    }
}
