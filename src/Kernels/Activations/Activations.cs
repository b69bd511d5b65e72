using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Activations;

/// <summary>Elementwise ReLU and sigmoid (float32), on the CPU through TensorPrimitives or by CUDA kernels.</summary>
public static class Activation
{
    private static KernelSource Source => KernelCatalog.Get("Activations/Activations.cu");

    public static Tensor Relu(Tensor x) => Apply(x, "relu", static (i, o) => TensorPrimitives.Max(i, 0f, o));

    public static Tensor Sigmoid(Tensor x) => Apply(x, "sigmoid", static (i, o) => TensorPrimitives.Sigmoid(i, o));

    private delegate void CpuTwin(ReadOnlySpan<float> input, Span<float> output);

    private static Tensor Apply(Tensor x, string op, CpuTwin cpu)
    {
        Check.DType(x, DType.Float32, op, "input");
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        if (x.Device.IsCpu) RunCpu(x, y, cpu);
        else Launch(x, y, op + "_f32");
        return y;
    }

    private static unsafe void RunCpu(Tensor x, Tensor y, CpuTwin cpu)
    {
        const int chunkSize = 1 << 16;
        float* input = (float*)x.Pointer;
        float* output = (float*)y.Pointer;
        long n = x.Numel;
        CpuThreads.For((int)((n + chunkSize - 1) / chunkSize), (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                long offset = (long)c * chunkSize;
                int len = (int)Math.Min(chunkSize, n - offset);
                cpu(new ReadOnlySpan<float>(input + offset, len), new Span<float>(output + offset, len));
            }
        });
    }

    private static unsafe void Launch(Tensor x, Tensor y, string entry)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, output = y.Pointer;
        long n = x.Numel;
        if (n == 0) return;
        void** args = stackalloc void*[] { &input, &output, &n };
        gpu.Launch(gpu.GetKernel(Source, entry), Dim3.Cover(n, 256), new Dim3(256), 0, args, 3);
    }
}
