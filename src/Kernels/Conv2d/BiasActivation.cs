using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// The epilogue shared by conv2d, conv_transpose2d and linear: add a per-channel bias, then ReLU.
/// Done in one pass over the output so the fused ReLU costs no extra memory traffic.
/// </summary>
internal static class BiasActivation
{
    private static KernelSource Source => KernelCatalog.Get("Conv2d/Conv2d.cu");

    /// <summary>
    /// CPU: <paramref name="rows"/> rows of <paramref name="length"/> values, <paramref name="stride"/>
    /// apart; row i gets bias[i] (if any). Threads split the rows.
    /// </summary>
    public static unsafe void ChannelRows(float* y, long stride, int length, int rows, float* bias, bool relu)
    {
        if (bias == null && !relu) return;
        CpuThreads.For(rows, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                var row = new Span<float>(y + i * stride, length);
                if (bias != null) TensorPrimitives.Add(row, bias[i], row);
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
    /// CUDA: y is [outer, channels, inner] flattened; element i gets bias[(i / inner) % channels].
    /// </summary>
    public static unsafe void Launch(IDeviceRuntime gpu, nint y, nint bias, long total, long inner, int channels, bool relu)
    {
        if ((bias == 0 && !relu) || total == 0) return;
        int reluFlag = relu ? 1 : 0;
        void** args = stackalloc void*[] { &y, &bias, &total, &inner, &channels, &reluFlag };
        gpu.Launch(gpu.GetKernel(Source, "bias_activation_f32"), Dim3.Cover(total, 256), new Dim3(256), 0, args, 6);
    }
}
