using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Losses;

/// <summary>The elementwise losses' kernel selector; the values match pointwise_term in Losses.cu.</summary>
internal enum PointwiseKind
{
    BinaryCrossEntropyWithLogits = 0,
    SmoothL1 = 1,
}

/// <summary>
/// Losses whose terms are a function of one input element and its target (same shapes, float32): the
/// checks, CPU twins and launches behind <see cref="BinaryCrossEntropyLoss"/>, <see cref="SmoothL1Loss"/>
/// and <see cref="L1Loss"/>. <c>beta</c> is smooth-L1's parameter and unused otherwise.
/// </summary>
internal static class PointwiseLoss
{
    private const int Chunk = 1 << 14;

    public static Tensor Forward(string op, PointwiseKind kind, Tensor input, Tensor target, float beta, LossReduction reduction, float scale)
    {
        CheckInputs(op, input, target);
        float factor = LossTotals.Factor(op, reduction, scale, input.Numel);
        using var terms = Tensor.Empty(input.Shape, DType.Float32, input.Device);
        if (terms.Numel > 0)
        {
            if (input.Device.IsCpu) RunCpu(input, target, terms, (x, t) => Term(kind, x, t, beta));
            else Launch(kind, input, target, beta, terms);
        }
        return LossTotals.Reduce(terms, factor);
    }

    public static Tensor Backward(string op, PointwiseKind kind, Tensor input, Tensor target, float beta, LossReduction reduction, float scale, Tensor? gradLoss)
    {
        CheckInputs(op, input, target);
        LossTotals.CheckUpstream(op, gradLoss, input);
        float factor = LossTotals.Factor(op, reduction, scale, input.Numel);
        var grad = Tensor.Empty(input.Shape, DType.Float32, input.Device);
        if (grad.Numel == 0) return grad;
        if (input.Device.IsCpu)
        {
            float upstream = LossTotals.CpuUpstream(gradLoss, factor);
            RunCpu(input, target, grad, (x, t) => Gradient(kind, x, t, beta) * upstream);
        }
        else
        {
            LaunchBackward(kind, input, target, beta, gradLoss, factor, grad);
        }
        return grad;
    }

    public static void CheckBeta(string op, float beta) =>
        Check.That(float.IsFinite(beta) && beta >= 0, op, $"beta {beta} must be finite and >= 0 (0 = L1)");

    private static void CheckInputs(string op, Tensor input, Tensor target)
    {
        Check.DType(input, DType.Float32, op, "input");
        Check.DType(target, DType.Float32, op, "target");
        Check.SameShape(input, target, op);
        Check.SameDevice(op, input, target);
    }

    private static float Term(PointwiseKind kind, float x, float t, float beta)
    {
        if (kind == PointwiseKind.BinaryCrossEntropyWithLogits)
            return MathF.Max(x, 0) - x * t + (float)Math.Log(1 + Math.Exp(-Math.Abs(x)));
        float d = MathF.Abs(x - t);
        return d < beta ? 0.5f * d * d / beta : d - 0.5f * beta;
    }

    private static float Gradient(PointwiseKind kind, float x, float t, float beta)
    {
        if (kind == PointwiseKind.BinaryCrossEntropyWithLogits) return 1f / (1f + MathF.Exp(-x)) - t;
        float d = x - t;
        if (d < -beta) return -1f;
        if (d > beta) return 1f;
        return beta > 0 ? d / beta : 0f;
    }

    private static unsafe void RunCpu(Tensor input, Tensor target, Tensor output, Func<float, float, float> f)
    {
        float* x = (float*)input.Pointer, t = (float*)target.Pointer, o = (float*)output.Pointer;
        long n = input.Numel;
        CpuThreads.For(checked((int)((n + Chunk - 1) / Chunk)), (start, end) =>
        {
            for (long i = (long)start * Chunk; i < Math.Min((long)end * Chunk, n); i++) o[i] = f(x[i], t[i]);
        });
    }

    private static unsafe void Launch(PointwiseKind kind, Tensor input, Tensor target, float beta, Tensor terms)
    {
        var gpu = input.Device.Gpu;
        nint x = input.Pointer, t = target.Pointer, o = terms.Pointer;
        long n = input.Numel;
        int k = (int)kind;
        void** args = stackalloc void*[] { &x, &t, &n, &k, &beta, &o };
        gpu.Launch(gpu.GetKernel(LossTotals.Source, "pointwise_loss_terms_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, args, 6);
    }

    private static unsafe void LaunchBackward(PointwiseKind kind, Tensor input, Tensor target, float beta, Tensor? gradLoss, float factor, Tensor grad)
    {
        var gpu = input.Device.Gpu;
        nint x = input.Pointer, t = target.Pointer, upstream = gradLoss?.Pointer ?? 0, o = grad.Pointer;
        long n = input.Numel;
        int k = (int)kind;
        void** args = stackalloc void*[] { &x, &t, &n, &k, &beta, &upstream, &factor, &o };
        gpu.Launch(gpu.GetKernel(LossTotals.Source, "pointwise_loss_backward_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, args, 8);
    }
}
