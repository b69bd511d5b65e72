using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;
using NativeSeg.Kernels.Convolution;

namespace NativeSeg.Kernels.Dense;

/// <summary>
/// Fully connected layer y = x·Wᵀ + b with torch's weight layout [out, in], float32, over the last
/// dimension of x. One GEMM (OpenBLAS on the CPU, the device BLAS on CUDA) and the conv epilogue for
/// bias and optional ReLU. A float16 weight selects the fp16 path: x rounded to half, a half GEMM with float
/// accumulation rounded to half, then bias and ReLU in float into a float32 output (the CPU twin: the float GEMM of
/// the rounded operands, rounded).
/// </summary>
public static partial class Linear
{
    private const string Op = "linear";

    public static Tensor Forward(Tensor x, Tensor weight, Tensor? bias = null, bool fuseRelu = false)
    {
        Check.That(x.Rank >= 1, Op, $"input {x.Shape} must have at least one dimension");
        Check.Rank(weight, 2, Op, "weight");
        Check.DType(x, DType.Float32, Op, "input");
        if (weight.DType != DType.Float16) Check.DType(weight, DType.Float32, Op, "weight");
        Check.SameDevice(Op, bias is null ? [x, weight] : [x, weight, bias]);
        int inFeatures = x.Shape[-1], outFeatures = weight.Shape[0];
        Check.That(weight.Shape[1] == inFeatures, Op, $"input {x.Shape} has {inFeatures} features but weight {weight.Shape} expects {weight.Shape[1]}");
        if (bias is not null)
        {
            Check.DType(bias, DType.Float32, Op, "bias");
            Check.That(bias.Rank == 1 && bias.Shape[0] == outFeatures, Op, $"bias {bias.Shape} must be [{outFeatures}] for weight {weight.Shape}");
        }
        var shape = x.Shape.WithDim(-1, outFeatures);
        var y = Tensor.Empty(shape, DType.Float32, x.Device);
        if (y.Numel == 0) return y;
        int rows = checked((int)(y.Numel / outFeatures));
        if (weight.DType == DType.Float16) RunHalf(x, weight, bias, y, rows, inFeatures, outFeatures, fuseRelu);
        else if (x.Device.IsCpu) RunCpu(x, weight, bias, y, rows, inFeatures, outFeatures, fuseRelu);
        else RunCuda(x, weight, bias, y, rows, inFeatures, outFeatures, fuseRelu);
        FlopCount.AddMultiplyAdds((long)rows * inFeatures * outFeatures);
        return y;
    }

    private static unsafe void RunCpu(Tensor x, Tensor weight, Tensor? bias, Tensor y, int rows, int inFeatures, int outFeatures, bool relu)
    {
        float* yp = (float*)y.Pointer;
        if (inFeatures == 0) y.Fill(0);
        else OpenBlas.Sgemm(false, true, rows, outFeatures, inFeatures, 1f, (float*)x.Pointer, inFeatures, (float*)weight.Pointer, inFeatures, 0f, yp, outFeatures);
        BiasActivation.VectorRows(yp, outFeatures, rows, bias is null ? null : (float*)bias.Pointer, relu);
    }

    private static void RunHalf(Tensor x, Tensor weight, Tensor? bias, Tensor y, int rows, int inFeatures, int outFeatures, bool relu)
    {
        using var x16 = Cast.To(x, DType.Float16);
        Tensor y16;
        if (x.Device.IsCpu)
        {
            using var rounded = Cast.To(x16, DType.Float32);
            using var wide = Cast.To(weight, DType.Float32);
            using var sum = Tensor.Empty(y.Shape, DType.Float32, x.Device);
            RunCpu(rounded, wide, null, sum, rows, inFeatures, outFeatures, false);
            y16 = Cast.To(sum, DType.Float16);
        }
        else
        {
            y16 = Tensor.Empty(y.Shape, DType.Float16, y.Device);
            if (inFeatures == 0) y16.Fill(0);
            else x.Device.Gpu.Blas.GemmHalf(false, true, rows, outFeatures, inFeatures, 1f, x16.Pointer, inFeatures, weight.Pointer, inFeatures, 0f, y16.Pointer, outFeatures);
        }
        using (y16) HalfBiasActivation.Run(y16, y, bias, 1, outFeatures, relu);
    }

    private static void RunCuda(Tensor x, Tensor weight, Tensor? bias, Tensor y, int rows, int inFeatures, int outFeatures, bool relu)
    {
        var gpu = x.Device.Gpu;
        if (inFeatures == 0) y.Fill(0);
        else gpu.Blas.Sgemm(false, true, rows, outFeatures, inFeatures, 1f, x.Pointer, inFeatures, weight.Pointer, inFeatures, 0f, y.Pointer, outFeatures);
        BiasActivation.Launch(gpu, y.Pointer, bias?.Pointer ?? 0, y.Numel, 1, outFeatures, relu);
    }
}
