using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Activations;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Kernels.Dense;
using ConvOp = NativeSeg.Kernels.Convolution.Conv2d;
using ConvTransposeOp = NativeSeg.Kernels.Convolution.ConvTranspose2d;
using LinearOp = NativeSeg.Kernels.Dense.Linear;

namespace NativeSeg.Layers.Autograd;

/// <summary>
/// Differentiable ops: each runs the kernel's forward and, while a <see cref="Tape"/> records and an input needs a
/// gradient, records the kernel's backward. Without a tape they cost what the kernel costs.
/// </summary>
public static partial class Functional
{
    /// <summary>
    /// conv2d with bias, an optional <paramref name="residual"/> of the output's shape added in the epilogue, and fused
    /// ReLU; <paramref name="winograd"/>, the weight's prepared transform, and <paramref name="bf16"/>, the weight packed in
    /// bf16 for the CPU's bf16 path, if any.
    /// </summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, Conv2dParams p, WinogradFilters? winograd = null, Bf16ConvWeights? bf16 = null,
        Tensor? residual = null)
    {
        var plain = p with { FuseRelu = false };
        return Weighted("conv2d", x, weight, bias, p.FuseRelu, ConvOp.Forward(x, weight, bias, p, winograd, bf16, residual),
            (dy, w, inputShape) => ConvOp.BackwardInput(dy, w, plain, inputShape),
            (input, dy, weightShape) => ConvOp.BackwardWeight(input, dy, plain, weightShape),
            ConvOp.BackwardBias, residual);
    }

    /// <summary>conv_transpose2d (torch's [in, out, k, k] weight) with bias and fused ReLU.</summary>
    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias, ConvTranspose2dParams p)
    {
        var plain = p with { FuseRelu = false };
        return Weighted("conv_transpose2d", x, weight, bias, p.FuseRelu, ConvTransposeOp.Forward(x, weight, bias, p),
            (dy, w, inputShape) => ConvTransposeOp.BackwardInput(dy, w, plain, inputShape),
            (input, dy, weightShape) => ConvTransposeOp.BackwardWeight(input, dy, plain, weightShape),
            ConvTransposeOp.BackwardBias);
    }

    /// <summary>y = x·Wᵀ + b for x [R, in], W [out, in], with fused ReLU.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias, bool relu) =>
        Weighted("linear", x, weight, bias, relu, LinearOp.Forward(x, weight, bias, relu),
            (dy, w, _) => LinearOp.BackwardInput(dy, w),
            (input, dy, _) => LinearOp.BackwardWeight(input, dy),
            LinearOp.BackwardBias);

    /// <summary>
    /// Records an op y = act(f(x, W) + b + residual) whose gradients are three kernel calls; a fused ReLU's mask is read
    /// from the saved output, so the pre-activation never has to be kept; the residual's gradient is the masked one.
    /// </summary>
    private static Tensor Weighted(string op, Tensor x, Tensor weight, Tensor? bias, bool relu, Tensor y,
        Func<Tensor, Tensor, Shape, Tensor> backwardInput, Func<Tensor, Tensor, Shape, Tensor> backwardWeight, Func<Tensor, Tensor> backwardBias,
        Tensor? residual = null)
    {
        if (Tape.Current is not { } tape) return y;
        var node = new TapeNode(op, [x, weight, bias, residual], [y]);
        var savedX = node.Save(x);
        var savedW = node.Save(weight);
        var savedY = relu ? node.Save(y) : null;
        tape.Add(node.WithBackward((g, need) =>
        {
            var dy = savedY is null ? g[0]! : Activation.ReluBackward(g[0]!, savedY);
            return
            [
                need[0] ? backwardInput(dy, savedW, savedX.Shape) : null,
                need[1] ? backwardWeight(savedX, dy, savedW.Shape) : null,
                need[2] ? backwardBias(dy) : null,
                need[3] ? dy.Share() : null,
            ];
        }));
        return y;
    }
}
