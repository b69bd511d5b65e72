using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Convolution;

/// <summary>
/// The fp16 path's epilogue of conv2d and linear: their half output widened to float, plus the float bias (and for
/// conv2d a float residual map of the output's shape), then ReLU, stored as float: the fp16 path keeps activations in float between layers, since what follows a conv or
/// linear (residual adds, pooling, FPN upsampling, RoIAlign, softmax, box decoding) reads float.
/// </summary>
internal static class HalfBiasActivation
{
    private const int ChunkSize = 1 << 14;

    private static KernelSource Source => KernelCatalog.Get("Conv2d/Conv2d.cu");

    /// <summary>
    /// y = act(y16 + bias + residual): all [outer, channels, inner]; element i gets bias[(i / inner) % channels] and
    /// residual[i] (residual null: none).
    /// </summary>
    public static void Run(Tensor y16, Tensor y, Tensor? bias, long inner, int channels, bool relu, Tensor? residual = null)
    {
        long total = y.Numel;
        if (total == 0) return;
        if (y.Device.IsCpu) RunCpu(y16, y, bias, residual, total, inner, channels, relu);
        else Launch(y.Device.Gpu, y16.Pointer, y.Pointer, bias?.Pointer ?? 0, residual?.Pointer ?? 0, total, inner, channels, relu);
    }

    private static unsafe void RunCpu(Tensor y16, Tensor y, Tensor? bias, Tensor? residual, long total, long inner, int channels, bool relu)
    {
        Half* source = (Half*)y16.Pointer;
        float* target = (float*)y.Pointer;
        float* b = bias is null ? null : (float*)bias.Pointer;
        float* r = residual is null ? null : (float*)residual.Pointer;
        CpuThreads.For(checked((int)((total + ChunkSize - 1) / ChunkSize)), (start, end) =>
        {
            for (long i = (long)start * ChunkSize; i < Math.Min(total, (long)end * ChunkSize); i++)
            {
                float v = (float)source[i];
                if (b != null) v += b[i / inner % channels];
                if (r != null) v += r[i];
                target[i] = relu && v < 0 ? 0 : v;
            }
        });
    }

    private static unsafe void Launch(IDeviceRuntime gpu, nint y16, nint y, nint bias, nint residual, long total, long inner, int channels, bool relu)
    {
        int reluFlag = relu ? 1 : 0;
        void** args = stackalloc void*[] { &y16, &y, &bias, &residual, &total, &inner, &channels, &reluFlag };
        gpu.Launch(gpu.GetKernel(Source, "bias_activation_f16_f32"), Dim3.Cover(total, 256), new Dim3(256), 0, args, 8);
    }
}
