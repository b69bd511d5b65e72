using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Softmax;

/// <summary>Softmax over the last dimension of a float32 tensor, stabilised by subtracting each row's maximum.</summary>
public static class Softmax
{
    private const string Op = "softmax";

    private static KernelSource Source => KernelCatalog.Get("Softmax/Softmax.cu");

    public static Tensor LastDim(Tensor x)
    {
        Check.DType(x, DType.Float32, Op, "input");
        Check.That(x.Rank >= 1, Op, $"input must have at least one dimension, got {x.Shape}");
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        if (x.Numel == 0) return y;
        int cols = x.Shape[-1];
        long rows = x.Numel / cols;
        if (x.Device.IsCpu) RunCpu(x, y, rows, cols);
        else Launch(x, y, rows, cols);
        return y;
    }

    private static unsafe void RunCpu(Tensor x, Tensor y, long rows, int cols)
    {
        float* input = (float*)x.Pointer, output = (float*)y.Pointer;
        CpuThreads.For(checked((int)rows), (start, end) =>
        {
            for (int r = start; r < end; r++)
            {
                var row = new ReadOnlySpan<float>(input + (long)r * cols, cols);
                var result = new Span<float>(output + (long)r * cols, cols);
                TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), result);
                TensorPrimitives.Exp(result, result);
                TensorPrimitives.Multiply(result, 1f / TensorPrimitives.Sum(result), result);
            }
        }, grain: Math.Max(1, ParallelElements / cols));
    }

    /// <summary>Elements a thread should handle before a second one pays off (a box head's 1000×81 logits do not).</summary>
    private const int ParallelElements = 1 << 16;

    private static unsafe void Launch(Tensor x, Tensor y, long rows, int cols)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, output = y.Pointer;
        void** args = stackalloc void*[] { &input, &output, &rows, &cols };
        int block = (int)Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)cols), 32, 256);
        gpu.Launch(gpu.GetKernel(Source, "softmax_last_f32"), new Dim3((uint)Math.Min(rows, 65535)), new Dim3((uint)block), 0, args, 4);
    }
}
