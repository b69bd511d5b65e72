using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

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

    private static unsafe void RunCpu(Tensor logits, Tensor values, Tensor output, int items, int k, long p)
    {
        float* l = (float*)logits.Pointer, v = (float*)values.Pointer, o = (float*)output.Pointer;
        CpuThreads.For(items, (start, end) =>
        {
            for (long r = start; r < end; r++)
            {
                for (long i = 0; i < p; i++)
                {
                    float* li = l + r * k * p + i, vi = v + r * k * p + i;
                    float top = li[0];
                    for (int c = 1; c < k; c++) top = MathF.Max(top, li[c * p]);
                    float weights = 0, sum = 0;
                    for (int c = 0; c < k; c++)
                    {
                        float e = MathF.Exp(li[c * p] - top);
                        weights += e;
                        sum += e * vi[c * p];
                    }
                    o[r * p + i] = 1f / (1f + MathF.Exp(-sum / weights));
                }
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
