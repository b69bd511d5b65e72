using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.BoxCoder;
using NativeSeg.Kernels.BoxIou;
using BoxCoderOp = NativeSeg.Kernels.BoxCoder.BoxCoder;
using BoxIouOp = NativeSeg.Kernels.BoxIou.BoxIou;

namespace NativeSeg.Tests.Models.MaskRcnn.Training;

/// <summary>The CPU BoxCoder.Encode and BoxIou against torchvision 0.14 and the detectron2 reimplementation.</summary>
public class BoxOpsTrainingTests
{
    [Theory]
    [InlineData("encode.rpn", 1, 1)]
    [InlineData("encode.roi_heads", 10, 5)]
    public void EncodeMatchesTorchvisionEncodeSingle(string name, float centre, float size)
    {
        float[] targets = TrainingFixture.Floats("encode.targets"), references = TrainingFixture.Floats("encode.references");
        using var t = Tensor.FromArray(targets, targets.Length / 4, 4);
        using var r = Tensor.FromArray(references, references.Length / 4, 4);
        using var deltas = BoxCoderOp.Encode(t, r, new BoxWeights(centre, centre, size, size), BoxConvention.Detectron2);
        double error = TrainingFixture.RelativeError(TrainingFixture.Floats(name), deltas.ToArray<float>());
        Assert.True(error <= 1e-5, $"{name}: relative error {error:G3}");
    }

    [Fact]
    public void DecodeUndoesEncode()
    {
        float[] targets = TrainingFixture.Floats("encode.targets"), references = TrainingFixture.Floats("encode.references");
        using var t = Tensor.FromArray(targets, targets.Length / 4, 4);
        using var r = Tensor.FromArray(references, references.Length / 4, 4);
        using var deltas = BoxCoderOp.Encode(t, r, BoxWeights.RoiHeads, BoxConvention.Detectron2);
        using var back = BoxCoderOp.Decode(deltas, r, BoxWeights.RoiHeads, BoxConvention.Detectron2, null);
        double error = TrainingFixture.RelativeError(targets, back.ToArray<float>());
        Assert.True(error <= 1e-5, $"round trip relative error {error:G3}");
    }

    [Theory]
    [InlineData("iou.torchvision", IouZeroArea.Divide)]
    [InlineData("iou.detectron2", IouZeroArea.Zero)]
    public void IouMatchesTheReferences(string name, IouZeroArea zeroArea)
    {
        float[] a = TrainingFixture.Floats("iou.boxes1"), b = TrainingFixture.Floats("iou.boxes2");
        using var boxes1 = Tensor.FromArray(a, a.Length / 4, 4);
        using var boxes2 = Tensor.FromArray(b, b.Length / 4, 4);
        using var iou = BoxIouOp.Pairwise(boxes1, boxes2, zeroArea);
        var expected = TrainingFixture.Floats(name);
        // Both sets hold zero-area boxes, so the divide rule's NaN (0/0) is exercised.
        Assert.Equal(zeroArea == IouZeroArea.Divide, expected.Any(float.IsNaN));
        double error = TrainingFixture.RelativeError(expected, iou.ToArray<float>());
        Assert.True(error <= 1e-6, $"{name}: error {error:G3}");
    }
}
