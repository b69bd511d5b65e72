using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Losses;

/// <summary>
/// Sigmoid binary cross-entropy on logits, as torch's F.binary_cross_entropy_with_logits: each element
/// contributes max(x, 0) − x·t + log(1 + exp(−|x|)), stable for any logit. Targets lie in [0, 1] and share
/// the logits' shape.
/// </summary>
public static class BinaryCrossEntropyLoss
{
    private const string Op = "binary_cross_entropy_with_logits";

    /// <summary>The loss [1]: scale · Σ terms, divided by the element count for a mean.</summary>
    public static Tensor Forward(Tensor logits, Tensor targets, LossReduction reduction = LossReduction.Mean, float scale = 1f) =>
        PointwiseLoss.Forward(Op, PointwiseKind.BinaryCrossEntropyWithLogits, logits, targets, 0, reduction, scale);

    /// <summary>d loss / d logits = (σ(x) − t) · the forward's multiplier · <paramref name="gradLoss"/> (one float32, default 1).</summary>
    public static Tensor Backward(Tensor logits, Tensor targets, LossReduction reduction = LossReduction.Mean, float scale = 1f, Tensor? gradLoss = null) =>
        PointwiseLoss.Backward(Op, PointwiseKind.BinaryCrossEntropyWithLogits, logits, targets, 0, reduction, scale, gradLoss);
}
