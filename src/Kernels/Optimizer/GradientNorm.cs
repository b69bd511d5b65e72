using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Optimizer;

/// <summary>Sums of squares for gradient clipping by global norm (torch.nn.utils.clip_grad_norm_ with p = 2).</summary>
public static class GradientNorm
{
    private const string Op = "squared_norm";
    private const int Threads = 256;
    private const int MaxBlocks = 1024;

    private static KernelSource Source => KernelCatalog.Get("Optimizer/Optimizer.cu");

    /// <summary>Σ x², accumulated in double.</summary>
    public static double SumOfSquares(Tensor x)
    {
        Check.DType(x, DType.Float32, Op, "input");
        if (x.Numel == 0) return 0;
        return x.Device.IsCpu ? SumCpu(x) : SumCuda(x);
    }

    private static unsafe double SumCpu(Tensor x)
    {
        const int chunk = 1 << 16;
        double total = 0;
        float* p = (float*)x.Pointer;
        for (long offset = 0; offset < x.Numel; offset += chunk)
        {
            var span = new ReadOnlySpan<float>(p + offset, (int)Math.Min(chunk, x.Numel - offset));
            // Chunks keep float accumulation short; their sums add in double.
            total += TensorPrimitives.SumOfSquares(span);
        }
        return total;
    }

    private static unsafe double SumCuda(Tensor x)
    {
        var gpu = x.Device.Gpu;
        int blocks = (int)Math.Min(MaxBlocks, (x.Numel + Threads - 1) / Threads);
        // Tensors have no float64 dtype; the partial sums are doubles stored in int64 slots of the same width.
        using var partials = Tensor.Empty(new Shape(blocks), DType.Int64, x.Device);
        nint input = x.Pointer, output = partials.Pointer;
        long n = x.Numel;
        void** args = stackalloc void*[] { &input, &n, &output };
        gpu.Launch(gpu.GetKernel(Source, "squared_norm_partials_f32"), new Dim3((uint)blocks), new Dim3(Threads), 0, args, 3);
        return partials.ToArray<long>().Sum(BitConverter.Int64BitsToDouble);
    }
}
