using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;

namespace NativeSeg.Kernels.Dense;

/// <summary>
/// Gradients of <see cref="Linear.Forward"/> with the leading dimensions of x and dy flattened into
/// rows: dX = dY·W, dW = dYᵀ·X, db = column sums of dY. One GEMM each (OpenBLAS on the CPU, the
/// device BLAS on CUDA). A fused ReLU is the caller's to undo: mask gradOutput first.
/// </summary>
public static partial class Linear
{
    /// <summary>Gradient of the loss with respect to x [..., in]: gradOutput [..., out] times weight [out, in].</summary>
    public static Tensor BackwardInput(Tensor gradOutput, Tensor weight)
    {
        CheckGradOutput(gradOutput);
        Check.Rank(weight, 2, Op, "weight");
        Check.DType(weight, DType.Float32, Op, "weight");
        Check.SameDevice(Op, gradOutput, weight);
        int outFeatures = weight.Shape[0], inFeatures = weight.Shape[1];
        Check.That(gradOutput.Shape[-1] == outFeatures, Op,
            $"gradOutput {gradOutput.Shape} has {gradOutput.Shape[-1]} features but weight {weight.Shape} gives {outFeatures}");
        var dx = Tensor.Empty(gradOutput.Shape.WithDim(-1, inFeatures), DType.Float32, gradOutput.Device);
        if (dx.Numel == 0) return dx;
        int rows = checked((int)(dx.Numel / inFeatures));
        Gemm(false, false, rows, inFeatures, outFeatures, gradOutput, outFeatures, weight, inFeatures, dx);
        return dx;
    }

    /// <summary>Gradient of the loss with respect to the weight [out, in]: gradOutput [..., out] transposed times x [..., in], summed over rows.</summary>
    public static Tensor BackwardWeight(Tensor x, Tensor gradOutput)
    {
        CheckGradOutput(gradOutput);
        Check.That(x.Rank >= 1, Op, $"input {x.Shape} must have at least one dimension");
        Check.DType(x, DType.Float32, Op, "input");
        Check.SameDevice(Op, x, gradOutput);
        int inFeatures = x.Shape[-1], outFeatures = gradOutput.Shape[-1];
        Check.That(x.Shape.WithDim(-1, outFeatures) == gradOutput.Shape, Op,
            $"gradOutput {gradOutput.Shape} must match input {x.Shape} in every dimension but the last");
        var dw = Tensor.Empty(new Shape(outFeatures, inFeatures), DType.Float32, x.Device);
        if (dw.Numel == 0) return dw;
        int rows = inFeatures == 0 ? 0 : checked((int)(x.Numel / inFeatures));
        Gemm(true, false, outFeatures, inFeatures, rows, gradOutput, outFeatures, x, inFeatures, dw);
        return dw;
    }

    /// <summary>Gradient of the loss with respect to the bias [out]: gradOutput [..., out] summed over every row.</summary>
    public static Tensor BackwardBias(Tensor gradOutput)
    {
        CheckGradOutput(gradOutput);
        return BiasGradient.ChannelSums(gradOutput, gradOutput.Shape[-1], 1);
    }

    private static void CheckGradOutput(Tensor gradOutput)
    {
        Check.That(gradOutput.Rank >= 1, Op, $"gradOutput {gradOutput.Shape} must have at least one dimension");
        Check.DType(gradOutput, DType.Float32, Op, "gradOutput");
    }

    /// <summary>c = op(a)·op(b) into a new, non-empty result; an empty inner dimension gives zeros.</summary>
    private static unsafe void Gemm(bool transA, bool transB, int m, int n, int k, Tensor a, int lda, Tensor b, int ldb, Tensor c)
    {
        if (k == 0) c.Fill(0);
        else if (c.Device.IsCpu) OpenBlas.Sgemm(transA, transB, m, n, k, 1f, (float*)a.Pointer, lda, (float*)b.Pointer, ldb, 0f, (float*)c.Pointer, n);
        else c.Device.Gpu.Blas.Sgemm(transA, transB, m, n, k, 1f, a.Pointer, lda, b.Pointer, ldb, 0f, c.Pointer, n);
    }
}
