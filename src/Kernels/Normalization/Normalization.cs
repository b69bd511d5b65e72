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
        Check.DType(x, DType.Float32, Op, "input");
        Check.That(x.Rank >= 2, Op, $"input must be (N, C, ...), got {x.Shape}");
        int channels = x.Shape[1];
        Check.That(groups > 0 && channels % groups == 0, Op, $"{channels} channels of input {x.Shape} do not split into {groups} groups");
        Check.That(eps > 0, Op, $"eps must be positive, got {eps}");
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
        var p = new Plan(x.Shape[0] * (long)groups, x.Numel / (x.Shape[0] * (long)channels), channels, channels / groups, eps, relu);
        if (x.Device.IsCpu) RunCpu(x, gamma, beta, y, p);
        else Launch(x, gamma, beta, y, p);
        return y;
    }

    private readonly record struct Plan(long Groups, long Spatial, int Channels, int ChannelsPerGroup, float Eps, bool Relu)
    {
        public long GroupSize => Spatial * ChannelsPerGroup;
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
                float mean = TensorPrimitives.Sum(run) / run.Length;
                TensorPrimitives.Subtract(run, mean, deviations);
                float rstd = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(deviations) / run.Length + p.Eps);
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
        long groups = p.Groups, groupSize = p.GroupSize, n = x.Numel, spatial = p.Spatial;
        float eps = p.Eps;
        int channels = p.Channels, perGroup = p.ChannelsPerGroup, relu = p.Relu ? 1 : 0;
        int block = groupSize >= 1024 ? 1024 : 256;
        void** statsArgs = stackalloc void*[] { &input, &statsPtr, &groups, &groupSize, &eps };
        gpu.Launch(gpu.GetKernel(Source, "group_norm_stats_f32"), new Dim3((uint)Math.Min(groups, 65535)), new Dim3((uint)block), 0, statsArgs, 5);
        void** applyArgs = stackalloc void*[] { &input, &statsPtr, &g, &b, &output, &n, &spatial, &channels, &perGroup, &relu };
        gpu.Launch(gpu.GetKernel(Source, "group_norm_apply_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, applyArgs, 10);
    }
}
