using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Losses;

/// <summary>
/// Smooth-L1 as torch's F.smooth_l1_loss: each element contributes 0.5·d²/beta where |d| &lt; beta, else
/// |d| − 0.5·beta, with d = input − target. beta = 0 is L1, gradient included: sign(0) = 0 as in torch's
/// l1_loss and detectron2's abs (torch 1.13's smooth_l1 kernel alone gives −1 for an exact tie at beta 0).
/// detectron2's smooth_l1_loss switches to L1 below beta = 1e-5, so callers mirroring it pass 0 there.
/// </summary>
public static class SmoothL1Loss
{
    private const string Op = "smooth_l1_loss";

    /// <summary>The loss [1]: scale · Σ terms, divided by the element count for a mean.</summary>
    public static Tensor Forward(Tensor input, Tensor target, float beta, LossReduction reduction = LossReduction.Mean, float scale = 1f)
    {
        PointwiseLoss.CheckBeta(Op, beta);
        return PointwiseLoss.Forward(Op, PointwiseKind.SmoothL1, input, target, beta, reduction, scale);
    }

    /// <summary>
    /// d loss / d input: d / beta inside the quadratic zone, else sign(d) (sign(0) = 0 when beta is 0), times
    /// the forward's multiplier and <paramref name="gradLoss"/> (one float32, default 1).
    /// </summary>
    public static Tensor Backward(Tensor input, Tensor target, float beta, LossReduction reduction = LossReduction.Mean, float scale = 1f, Tensor? gradLoss = null)
    {
        PointwiseLoss.CheckBeta(Op, beta);
        return PointwiseLoss.Backward(Op, PointwiseKind.SmoothL1, input, target, beta, reduction, scale, gradLoss);
    }
}
