using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers.Autograd;

namespace NativeSeg.Models.Bpr.Training;

/// <summary>
/// mmseg's decode-head loss as BPR configures it: the two-class logits (1/4 of the input) resized bilinearly
/// (align_corners false) to the label size, softmax cross-entropy averaged over every pixel. For two classes that
/// cross-entropy is the sigmoid binary cross-entropy of the logit difference l1 − l0, and the difference commutes
/// with the (linear) resize, so the difference is taken first, by a fixed 1×1 conv, and only one channel is resized.
/// </summary>
public static class BprLoss
{
    /// <summary>The mean loss, a one-element tensor, for logits [B, 2, h, w] and a 0/1 target [B, 1, H, W].</summary>
    public static Tensor Compute(Tensor logits, Tensor target)
    {
        if (logits.Rank != 4 || logits.Shape[1] != 2 || target.Rank != 4 || target.Shape[1] != 1 || target.Shape[0] != logits.Shape[0])
            throw new ArgumentException($"BPR loss: logits {logits.Shape} must be [B, 2, h, w] and the target {target.Shape} [B, 1, H, W]");
        using var scope = TensorScope.Begin();
        using var host = Tensor.FromArray([-1f, 1f], 1, 2, 1, 1);
        var difference = Functional.Conv2d(logits, host.To(logits.Device), null, Conv2dParams.Default);
        var resized = Functional.ResizeBilinear(difference, target.Shape[2], target.Shape[3], alignCorners: false);
        return scope.Keep(Functional.BinaryCrossEntropyWithLogits(resized, target));
    }
}
