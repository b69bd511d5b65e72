using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// The epilogue shared by conv2d, conv_transpose2d and linear: add a per-channel bias (and for conv2d a residual map
/// of the output's shape), then ReLU. Done in one pass over the output so the fused ReLU and residual join cost no
/// extra pass over memory.
/// </summary>
internal static class BiasActivation
{
    private static KernelSource Source => KernelCatalog.Get("Conv2d/Conv2d.cu");

    /// <summary>
    /// CPU: <paramref name="rows"/> rows of <paramref name="length"/> values, <paramref name="stride"/>
    /// apart; row i gets bias[i] (if any), then the residual's row i (if any, laid out as y). Threads split the rows.
    /// </summary>
    public static unsafe void ChannelRows(float* y, long stride, int length, int rows, float* bias, bool relu, float* residual = null)
    {
        if (bias == null && residual == null && !relu) return;
        CpuThreads.For(rows, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                var row = new Span<float>(y + i * stride, length);
                if (bias != null) TensorPrimitives.Add(row, bias[i], row);
                if (residual != null) TensorPrimitives.Add(row, new ReadOnlySpan<float>(residual + i * stride, length), row);
                if (relu) TensorPrimitives.Max(row, 0f, row);
            }
        });
    }

    /// <summary>CPU: <paramref name="rows"/> contiguous rows of <paramref name="length"/> values, each plus the bias vector.</summary>
    public static unsafe void VectorRows(float* y, int length, int rows, float* bias, bool relu)
    {
        if (bias == null && !relu) return;
        CpuThreads.For(rows, (start, end) =>
        {
            var b = bias == null ? default : new ReadOnlySpan<float>(bias, length);
            for (int i = start; i < end; i++)
            {
                var row = new Span<float>(y + (long)i * length, length);
                if (bias != null) TensorPrimitives.Add(row, b, row);
                if (relu) TensorPrimitives.Max(row, 0f, row);
            }
        });
    }

    /// <summary>
    /// CUDA: y is [outer, channels, inner] flattened; element i gets bias[(i / inner) % channels], then residual[i]
    /// (residual 0: none).
    /// </summary>
    public static unsafe void Launch(IDeviceRuntime gpu, nint y, nint bias, long total, long inner, int channels, bool relu, nint residual = 0)
    {
        if ((bias == 0 && residual == 0 && !relu) || total == 0) return;
        int reluFlag = relu ? 1 : 0;
        void** args = stackalloc void*[] { &y, &bias, &residual, &total, &inner, &channels, &reluFlag };
        gpu.Launch(gpu.GetKernel(Source, "bias_activation_f32"), Dim3.Cover(total, 256), new Dim3(256), 0, args, 7);
    }
}
