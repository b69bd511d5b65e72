using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Blend;

/// <summary>
/// sigmoid(Σ_k softmax_k(logits) · values) over the second dimension of two [R, K, H, W] tensors, giving [R, H, W]:
/// how BlendMask's blender mixes K pooled basis maps with per-pixel attention logits, in one pass.
/// </summary>
public static class SoftmaxBlend
{
    private const string Op = "softmax_blend";

    private static KernelSource Source => KernelCatalog.Get("Blend/SoftmaxBlend.cu");

    public static Tensor Forward(Tensor logits, Tensor values)
    {
        Check.Rank(logits, 4, Op, "logits");
        Check.DType(logits, DType.Float32, Op, "logits");
        Check.DType(values, DType.Float32, Op, "values");
        Check.That(values.Shape == logits.Shape, Op, $"values {values.Shape} must have the shape of logits {logits.Shape}");
        Check.That(logits.Shape[1] > 0 || logits.Shape[0] == 0, Op, $"logits {logits.Shape} have no channels to blend");
        Check.SameDevice(Op, logits, values);
        int items = logits.Shape[0], k = logits.Shape[1];
        long p = (long)logits.Shape[2] * logits.Shape[3];
        var output = Tensor.Empty(logits.Device, DType.Float32, items, logits.Shape[2], logits.Shape[3]);
        if (output.Numel == 0) return output;
        if (logits.Device.IsCpu) RunCpu(logits, values, output, items, k, p);
        else Launch(logits, values, output, items, k, p);
        return output;
    }

    /// <summary>
    /// Whole planes at a time, vectorised: per item the running maximum, then exp(logit − max) and its
    /// product with the values summed plane by plane, then the sigmoid of their ratio.
    /// </summary>
    private static unsafe void RunCpu(Tensor logits, Tensor values, Tensor output, int items, int k, long p)
    {
        float* l = (float*)logits.Pointer, v = (float*)values.Pointer, o = (float*)output.Pointer;
        int plane = checked((int)p);
        CpuThreads.For(items, (start, end) =>
        {
            var top = new float[plane];
            var e = new float[plane];
            var weights = new float[plane];
            for (long r = start; r < end; r++)
            {
                var sum = new Span<float>(o + r * plane, plane);
                ReadOnlySpan<float> Logits(int c) => new(l + (r * k + c) * plane, plane);
                ReadOnlySpan<float> Values(int c) => new(v + (r * k + c) * plane, plane);
                Logits(0).CopyTo(top);
                for (int c = 1; c < k; c++) TensorPrimitives.Max(top, Logits(c), top);
                weights.AsSpan().Clear();
                sum.Clear();
                for (int c = 0; c < k; c++)
                {
                    TensorPrimitives.Subtract(Logits(c), top, e);
                    TensorPrimitives.Exp(e, e);
                    TensorPrimitives.Add(weights, e, weights);
                    TensorPrimitives.MultiplyAdd(e, Values(c), sum, sum);
                }
                TensorPrimitives.Divide(sum, weights, sum);
                TensorPrimitives.Sigmoid(sum, sum);
            }
        });
    }

    private static unsafe void Launch(Tensor logits, Tensor values, Tensor output, int items, int k, long p)
    {
        var gpu = logits.Device.Gpu;
        nint l = logits.Pointer, v = values.Pointer, o = output.Pointer;
        long count = items;
        void** args = stackalloc void*[] { &l, &v, &o, &count, &k, &p };
        gpu.Launch(gpu.GetKernel(Source, "softmax_blend_sigmoid_f32"), Dim3.Cover(output.Numel, 256), new Dim3(256), 0, args, 6);
    }
}
