using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Normalization;

/// <summary>
/// Group normalization over (N, C, *) float32 tensors, as torch.nn.GroupNorm: statistics per sample and
/// group of C/groups channels, biased variance, optional per-channel affine γ/β, and an optional fused
/// ReLU (FCOS-style towers apply GN then ReLU).
/// </summary>
public static class GroupNorm
{
    private const string Op = "group_norm";

    private static KernelSource Source => KernelCatalog.Get("Normalization/Normalization.cu");

    public static Tensor Forward(Tensor x, int groups, Tensor? gamma, Tensor? beta, float eps = 1e-5f, bool relu = false)
    {
        var p = PlanFor(x, groups, eps, relu, Op);
        int channels = p.Channels;
        Check.That((gamma is null) == (beta is null), Op, "gamma and beta must be given together");
        if (gamma is not null && beta is not null)
        {
            Check.DType(gamma, DType.Float32, Op, "gamma");
            Check.DType(beta, DType.Float32, Op, "beta");
            Check.That(gamma.Rank == 1 && gamma.Shape[0] == channels && beta.Shape == gamma.Shape, Op,
                $"gamma {gamma.Shape} and beta {beta.Shape} must be [{channels}] for input {x.Shape}");
            Check.SameDevice(Op, x, gamma, beta);
        }

        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        if (x.Numel == 0) return y;
        if (x.Device.IsCpu) RunCpu(x, gamma, beta, y, p);
        else Launch(x, gamma, beta, y, p);
        return y;
    }

    /// <summary>
    /// Gradients of <see cref="Forward"/> (torch semantics, biased variance) with respect to x, γ and β;
    /// dGamma and dBeta are null when gamma is (no affine transform). With a fused ReLU, pass the
    /// gradient through <c>Activation.ReluBackward</c> with the forward's output first.
    /// </summary>
    public static (Tensor Dx, Tensor? DGamma, Tensor? DBeta) Backward(Tensor gradOutput, Tensor x, int groups, Tensor? gamma, float eps = 1e-5f)
    {
        const string op = "group_norm_backward";
        var p = PlanFor(x, groups, eps, relu: false, op);
        Check.DType(gradOutput, DType.Float32, op, "gradOutput");
        Check.That(gradOutput.Shape == x.Shape, op, $"gradOutput {gradOutput.Shape} must have the shape of input {x.Shape}");
        Check.SameDevice(op, gradOutput, x);
        if (gamma is not null)
        {
            Check.DType(gamma, DType.Float32, op, "gamma");
            Check.That(gamma.Rank == 1 && gamma.Shape[0] == p.Channels, op, $"gamma {gamma.Shape} must be [{p.Channels}] for input {x.Shape}");
            Check.SameDevice(op, x, gamma);
        }

        var dx = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        var dgamma = gamma is null ? null : Tensor.Zeros(gamma.Shape, DType.Float32, x.Device);
        var dbeta = gamma is null ? null : Tensor.Zeros(gamma.Shape, DType.Float32, x.Device);
        if (x.Numel == 0) return (dx, dgamma, dbeta);
        if (x.Device.IsCpu) RunBackwardCpu(gradOutput, x, gamma, dx, dgamma, dbeta, p);
        else LaunchBackward(gradOutput, x, gamma, dx, dgamma, dbeta, p);
        return (dx, dgamma, dbeta);
    }

    private readonly record struct Plan(long Batch, long Groups, long Spatial, int Channels, int ChannelsPerGroup, float Eps, bool Relu)
    {
        public long GroupSize => Spatial * ChannelsPerGroup;
    }

    private static Plan PlanFor(Tensor x, int groups, float eps, bool relu, string op)
    {
        Check.DType(x, DType.Float32, op, "input");
        Check.That(x.Rank >= 2, op, $"input must be (N, C, ...), got {x.Shape}");
        int channels = x.Shape[1];
        Check.That(groups > 0 && channels % groups == 0, op, $"{channels} channels of input {x.Shape} do not split into {groups} groups");
        Check.That(eps > 0, op, $"eps must be positive, got {eps}");
        long spatial = 1;
        for (int d = 2; d < x.Rank; d++) spatial *= x.Shape[d];
        return new Plan(x.Shape[0], x.Shape[0] * (long)groups, spatial, channels, channels / groups, eps, relu);
    }

    /// <summary>Mean and 1/std of one group (two passes, as the CUDA stats kernel), leaving x − mean in deviations.</summary>
    private static (float Mean, float Rstd) Moments(ReadOnlySpan<float> run, float eps, Span<float> deviations)
    {
        float mean = TensorPrimitives.Sum(run) / run.Length;
        TensorPrimitives.Subtract(run, mean, deviations);
        return (mean, 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(deviations) / run.Length + eps));
    }

    private static unsafe void RunCpu(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Plan p)
    {
        float* input = (float*)x.Pointer, output = (float*)y.Pointer;
        float* g = gamma is null ? null : (float*)gamma.Pointer;
        float* b = beta is null ? null : (float*)beta.Pointer;
        int spatial = checked((int)p.Spatial);
        CpuThreads.For(checked((int)p.Groups), (start, end) =>
        {
            var deviations = new float[checked((int)p.GroupSize)];
            for (int group = start; group < end; group++)
            {
                var run = new ReadOnlySpan<float>(input + group * p.GroupSize, deviations.Length);
                var (mean, rstd) = Moments(run, p.Eps, deviations);
                for (int j = 0; j < p.ChannelsPerGroup; j++)
                {
                    int c = (int)(group * (long)p.ChannelsPerGroup % p.Channels) + j;
                    float scale = rstd * (g is null ? 1f : g[c]);
                    float shift = (b is null ? 0f : b[c]) - mean * scale;
                    var plane = run.Slice(j * spatial, spatial);
                    var result = new Span<float>(output + group * p.GroupSize + (long)j * spatial, spatial);
                    TensorPrimitives.Multiply(plane, scale, result);
                    TensorPrimitives.Add(result, shift, result);
                    if (p.Relu) TensorPrimitives.Max(result, 0f, result);
                }
            }
        });
    }

    private static unsafe void Launch(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Plan p)
    {
        var gpu = x.Device.Gpu;
        using var stats = Tensor.Empty(x.Device, DType.Float32, checked((int)p.Groups), 2);
        nint input = x.Pointer, statsPtr = stats.Pointer, output = y.Pointer;
        nint g = gamma?.Pointer ?? 0, b = beta?.Pointer ?? 0;
        long n = x.Numel, spatial = p.Spatial;
        int channels = p.Channels, perGroup = p.ChannelsPerGroup, relu = p.Relu ? 1 : 0;
        LaunchStats(x, stats, p);
        void** applyArgs = stackalloc void*[] { &input, &statsPtr, &g, &b, &output, &n, &spatial, &channels, &perGroup, &relu };
        gpu.Launch(gpu.GetKernel(Source, "group_norm_apply_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, applyArgs, 10);
    }

    /// <summary>Mean and rstd per (sample, group) into stats [groups, 2].</summary>
    private static unsafe void LaunchStats(Tensor x, Tensor stats, Plan p)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, statsPtr = stats.Pointer;
        long groups = p.Groups, groupSize = p.GroupSize;
        float eps = p.Eps;
        void** args = stackalloc void*[] { &input, &statsPtr, &groups, &groupSize, &eps };
        gpu.Launch(gpu.GetKernel(Source, "group_norm_stats_f32"), ReductionGrid(groups), ReductionBlock(groupSize), 0, args, 5);
    }

    // One block per reduced run; a full block only when the run is long enough to use it.
    private static Dim3 ReductionGrid(long runs) => new((uint)Math.Min(runs, 65535));

    private static Dim3 ReductionBlock(long runLength) => new(runLength >= 1024 ? 1024u : 256u);

    private static unsafe void RunBackwardCpu(Tensor gradOutput, Tensor x, Tensor? gamma, Tensor dx, Tensor? dgamma, Tensor? dbeta, Plan p)
    {
        float* input = (float*)x.Pointer, grad = (float*)gradOutput.Pointer, result = (float*)dx.Pointer;
        float* g = gamma is null ? null : (float*)gamma.Pointer;
        int spatial = checked((int)p.Spatial);
        // Σ dy and Σ dy·x̂ per (sample, channel) plane, kept for dγ and dβ.
        var sums = new float[checked((int)(p.Batch * p.Channels * 2))];
        CpuThreads.For(checked((int)p.Groups), (start, end) =>
        {
            var deviations = new float[checked((int)p.GroupSize)];
            for (int group = start; group < end; group++)
            {
                var run = new ReadOnlySpan<float>(input + group * p.GroupSize, deviations.Length);
                var (_, rstd) = Moments(run, p.Eps, deviations);
                var dy = new ReadOnlySpan<float>(grad + group * p.GroupSize, deviations.Length);
                float meanScaledGrad = 0f, meanScaledGradXhat = 0f;
                for (int j = 0; j < p.ChannelsPerGroup; j++)
                {
                    long plane = group * (long)p.ChannelsPerGroup + j;
                    float sum = TensorPrimitives.Sum(dy.Slice(j * spatial, spatial));
                    float weighted = TensorPrimitives.Dot(dy.Slice(j * spatial, spatial), deviations.AsSpan(j * spatial, spatial)) * rstd;
                    sums[2 * plane] = sum;
                    sums[2 * plane + 1] = weighted;
                    float scale = g is null ? 1f : g[plane % p.Channels];
                    meanScaledGrad += scale * sum;
                    meanScaledGradXhat += scale * weighted;
                }
                meanScaledGrad /= run.Length;
                meanScaledGradXhat /= run.Length;
                // dx = rstd·(γ·dy − mean(γ·dy) − x̂·mean(γ·dy·x̂)), with x̂ = deviation·rstd.
                for (int j = 0; j < p.ChannelsPerGroup; j++)
                {
                    float scale = g is null ? 1f : g[(group * (long)p.ChannelsPerGroup + j) % p.Channels];
                    var target = new Span<float>(result + group * p.GroupSize + (long)j * spatial, spatial);
                    TensorPrimitives.Multiply(dy.Slice(j * spatial, spatial), rstd * scale, target);
                    TensorPrimitives.MultiplyAdd(deviations.AsSpan(j * spatial, spatial), -rstd * rstd * meanScaledGradXhat, target, target);
                    TensorPrimitives.Add(target, -rstd * meanScaledGrad, target);
                }
            }
        });
        if (dgamma is null || dbeta is null) return;
        float* dg = (float*)dgamma.Pointer, db = (float*)dbeta.Pointer;
        for (long s = 0; s < p.Batch; s++)
        {
            for (int c = 0; c < p.Channels; c++)
            {
                db[c] += sums[2 * (s * p.Channels + c)];
                dg[c] += sums[2 * (s * p.Channels + c) + 1];
            }
        }
    }

    private static unsafe void LaunchBackward(Tensor gradOutput, Tensor x, Tensor? gamma, Tensor dx, Tensor? dgamma, Tensor? dbeta, Plan p)
    {
        var gpu = x.Device.Gpu;
        long planes = p.Batch * p.Channels;
        using var stats = Tensor.Empty(x.Device, DType.Float32, checked((int)p.Groups), 2);
        using var sums = Tensor.Empty(x.Device, DType.Float32, checked((int)planes), 2);
        using var coef = Tensor.Empty(x.Device, DType.Float32, checked((int)p.Groups), 2);
        LaunchStats(x, stats, p);
        nint grad = gradOutput.Pointer, input = x.Pointer, statsPtr = stats.Pointer, sumsPtr = sums.Pointer, coefPtr = coef.Pointer;
        nint g = gamma?.Pointer ?? 0, result = dx.Pointer;
        long groups = p.Groups, groupSize = p.GroupSize, spatial = p.Spatial, n = x.Numel, batch = p.Batch;
        int channels = p.Channels, perGroup = p.ChannelsPerGroup;

        void** sumsArgs = stackalloc void*[] { &grad, &input, &statsPtr, &sumsPtr, &planes, &spatial, &perGroup };
        gpu.Launch(gpu.GetKernel(Source, "group_norm_backward_sums_f32"), ReductionGrid(planes), ReductionBlock(spatial), 0, sumsArgs, 7);
        void** coefArgs = stackalloc void*[] { &sumsPtr, &g, &coefPtr, &groups, &channels, &perGroup, &groupSize };
        gpu.Launch(gpu.GetKernel(Source, "group_norm_backward_coefficients_f32"), Dim3.Cover(groups, 256), new Dim3(256), 0, coefArgs, 7);
        void** inputArgs = stackalloc void*[] { &grad, &input, &statsPtr, &coefPtr, &g, &result, &n, &spatial, &channels, &perGroup };
        gpu.Launch(gpu.GetKernel(Source, "group_norm_backward_input_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, inputArgs, 10);
        if (dgamma is null || dbeta is null) return;
        nint dg = dgamma.Pointer, db = dbeta.Pointer;
        void** paramArgs = stackalloc void*[] { &sumsPtr, &dg, &db, &batch, &channels };
        gpu.Launch(gpu.GetKernel(Source, "group_norm_backward_params_f32"), Dim3.Cover(channels, 256), new Dim3(256), 0, paramArgs, 5);
    }
}
