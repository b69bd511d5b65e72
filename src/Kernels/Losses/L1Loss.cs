using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Losses;

/// <summary>L1 as torch's F.l1_loss: each element contributes |input − target|; the gradient is sign(d), with sign(0) = 0.</summary>
public static class L1Loss
{
    private const string Op = "l1_loss";

    /// <summary>The loss [1]: scale · Σ |d|, divided by the element count for a mean.</summary>
    public static Tensor Forward(Tensor input, Tensor target, LossReduction reduction = LossReduction.Mean, float scale = 1f) =>
        PointwiseLoss.Forward(Op, PointwiseKind.SmoothL1, input, target, 0, reduction, scale);

    /// <summary>d loss / d input = sign(d) · the forward's multiplier · <paramref name="gradLoss"/> (one float32, default 1).</summary>
    public static Tensor Backward(Tensor input, Tensor target, LossReduction reduction = LossReduction.Mean, float scale = 1f, Tensor? gradLoss = null) =>
        PointwiseLoss.Backward(Op, PointwiseKind.SmoothL1, input, target, 0, reduction, scale, gradLoss);
}
