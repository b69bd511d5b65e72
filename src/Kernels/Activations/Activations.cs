using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Activations;

/// <summary>Elementwise ReLU, sigmoid and square root (float32), on the CPU through TensorPrimitives or by CUDA kernels.</summary>
public static class Activation
{
    private static KernelSource Source => KernelCatalog.Get("Activations/Activations.cu");

    public static Tensor Relu(Tensor x) => Apply(x, "relu", static (i, o) => TensorPrimitives.Max(i, 0f, o));

    public static Tensor Sigmoid(Tensor x) => Apply(x, "sigmoid", static (i, o) => TensorPrimitives.Sigmoid(i, o));

    /// <summary>torch.sqrt: correctly rounded, NaN for a negative input.</summary>
    public static Tensor Sqrt(Tensor x) => Apply(x, "sqrt", static (i, o) => TensorPrimitives.Sqrt(i, o));

    /// <summary>
    /// Gradient of <see cref="Relu"/> from the forward's output: gradOutput where output &gt; 0, else 0
    /// (torch's threshold_backward). The output, not the input, is what a conv with fused ReLU keeps.
    /// </summary>
    public static Tensor ReluBackward(Tensor gradOutput, Tensor output)
    {
        const string op = "relu_backward";
        Check.DType(gradOutput, DType.Float32, op, "gradOutput");
        Check.DType(output, DType.Float32, op, "output");
        Check.That(gradOutput.Shape == output.Shape, op, $"gradOutput {gradOutput.Shape} must have the shape of output {output.Shape}");
        Check.SameDevice(op, gradOutput, output);
        var dx = Tensor.Empty(output.Shape, DType.Float32, output.Device);
        if (output.Device.IsCpu) RunCpu(output.Numel, (offset, len) => ReluBackwardCpu(gradOutput, output, dx, offset, len));
        else Launch(output.Device, [gradOutput.Pointer, output.Pointer, dx.Pointer], output.Numel, op + "_f32");
        return dx;
    }

    private delegate void CpuTwin(ReadOnlySpan<float> input, Span<float> output);

    private static Tensor Apply(Tensor x, string op, CpuTwin cpu)
    {
        Check.DType(x, DType.Float32, op, "input");
        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        if (x.Device.IsCpu) RunCpu(x.Numel, (offset, len) => UnaryCpu(x, y, cpu, offset, len));
        else Launch(x.Device, [x.Pointer, y.Pointer], x.Numel, op + "_f32");
        return y;
    }

    private static unsafe void UnaryCpu(Tensor x, Tensor y, CpuTwin cpu, long offset, int len) =>
        cpu(new ReadOnlySpan<float>((float*)x.Pointer + offset, len), new Span<float>((float*)y.Pointer + offset, len));

    private static unsafe void ReluBackwardCpu(Tensor gradOutput, Tensor output, Tensor dx, long offset, int len)
    {
        float* grad = (float*)gradOutput.Pointer + offset, y = (float*)output.Pointer + offset, result = (float*)dx.Pointer + offset;
        for (int i = 0; i < len; i++) result[i] = y[i] <= 0f ? 0f : grad[i];
    }

    /// <summary>Runs chunk(offset, length) over [0, n) in chunks spread across the CPU threads.</summary>
    private static void RunCpu(long n, Action<long, int> chunk)
    {
        const int chunkSize = 1 << 16;
        CpuThreads.For((int)((n + chunkSize - 1) / chunkSize), (start, end) =>
        {
            for (int c = start; c < end; c++)
            {
                long offset = (long)c * chunkSize;
                chunk(offset, (int)Math.Min(chunkSize, n - offset));
            }
        });
    }

    /// <summary>Launches an elementwise kernel whose arguments are the given buffers followed by the element count.</summary>
    private static unsafe void Launch(Device device, ReadOnlySpan<nint> buffers, long n, string entry)
    {
        if (n == 0) return;
        var gpu = device.Gpu;
        nint* pointers = stackalloc nint[buffers.Length];
        void** args = stackalloc void*[buffers.Length + 1];
        for (int i = 0; i < buffers.Length; i++)
        {
            pointers[i] = buffers[i];
            args[i] = &pointers[i];
        }
        args[buffers.Length] = &n;
        gpu.Launch(gpu.GetKernel(Source, entry), Dim3.Cover(n, 256), new Dim3(256), 0, args, buffers.Length + 1);
    }
}
