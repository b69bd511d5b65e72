using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// The bias gradient shared by conv2d, conv_transpose2d and linear: the upstream gradient, read as
/// [outer, channels, inner], summed over outer and inner per channel.
/// </summary>
internal static class BiasGradient
{
    private static KernelSource Source => KernelCatalog.Get("Conv2d/BiasGradient.cu");

    public static unsafe Tensor ChannelSums(Tensor gradOutput, int channels, long inner)
    {
        var sums = Tensor.Empty(new Shape(channels), DType.Float32, gradOutput.Device);
        if (channels == 0) return sums;
        long outer = inner == 0 ? 0 : gradOutput.Numel / (channels * inner);
        if (outer == 0)
        {
            sums.Fill(0);
            return sums;
        }
        if (gradOutput.Device.IsCpu) Cpu((float*)gradOutput.Pointer, (float*)sums.Pointer, outer, checked((int)inner), channels);
        else Launch(gradOutput.Device.Gpu, gradOutput.Pointer, sums.Pointer, outer, inner, channels);
        return sums;
    }

    /// <summary>Threads split the channels; each adds its channels' rows image by image, contiguous runs when inner is 1.</summary>
    private static unsafe void Cpu(float* y, float* sums, long outer, int inner, int channels) =>
        CpuThreads.For(channels, (start, end) =>
        {
            var acc = new Span<float>(sums + start, end - start);
            acc.Clear();
            for (long o = 0; o < outer; o++)
            {
                float* block = y + (o * channels + start) * inner;
                if (inner == 1)
                {
                    TensorPrimitives.Add(acc, new ReadOnlySpan<float>(block, acc.Length), acc);
                    continue;
                }
                for (int c = 0; c < acc.Length; c++) acc[c] += TensorPrimitives.Sum(new ReadOnlySpan<float>(block + (long)c * inner, inner));
            }
        });

    private static unsafe void Launch(IDeviceRuntime gpu, nint y, nint sums, long outer, long inner, int channels)
    {
        void** args = stackalloc void*[] { &y, &sums, &outer, &inner, &channels };
        gpu.Launch(gpu.GetKernel(Source, "channel_sum_f32"), new Dim3((uint)Math.Min(channels, 65535)), new Dim3(256), 0, args, 5);
    }
}
