using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace NativeSeg.Kernels.Normalization;

/// <summary>
/// Batch normalization in training mode over (N, C, *) float32 tensors, as torch.nn.BatchNorm2d in train():
/// statistics per channel over the N·H·W values, the biased variance to normalise, and the running statistics
/// moved towards the batch's (running = (1 − momentum)·running + momentum·batch, with the unbiased variance).
/// Eval mode is a per-channel affine transform of the running statistics and needs no kernel of its own.
/// </summary>
public static class BatchNorm
{
    private const string Op = "batch_norm";

    private static KernelSource Source => KernelCatalog.Get("Normalization/BatchNorm.cu");

    /// <summary>
    /// The normalised input, and the batch statistics the backward reads ([C, 2]: mean and 1/√(var + eps) per
    /// channel). Updates <paramref name="runningMean"/> and <paramref name="runningVar"/> in place.
    /// </summary>
    public static (Tensor Y, Tensor Stats) TrainingForward(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar,
        float momentum, float eps)
    {
        var p = PlanFor(x, gamma, Op);
        Check.That(beta.Shape == gamma.Shape && runningMean.Shape == gamma.Shape && runningVar.Shape == gamma.Shape, Op,
            $"beta {beta.Shape}, running_mean {runningMean.Shape} and running_var {runningVar.Shape} must be [{p.Channels}] like gamma");
        foreach (var (t, name) in new[] { (beta, "beta"), (runningMean, "running_mean"), (runningVar, "running_var") }) Check.DType(t, DType.Float32, Op, name);
        Check.SameDevice(Op, x, gamma, beta, runningMean, runningVar);
        Check.That(momentum is >= 0 and <= 1, Op, $"momentum must be in [0, 1], got {momentum}");
        Check.That(eps > 0, Op, $"eps must be positive, got {eps}");
        // torch refuses too: one value per channel has no variance to normalise by, and no unbiased estimate.
        Check.That(p.PerChannel != 1, Op, $"training needs more than one value per channel, got input {x.Shape}");

        var y = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        var stats = Tensor.Zeros(new Shape(p.Channels, 2), DType.Float32, x.Device);
        // An empty batch, as torch: nothing to normalise, the running statistics stay as they were.
        if (x.Numel == 0) return (y, stats);
        if (x.Device.IsCpu) RunCpu(x, gamma, beta, runningMean, runningVar, y, stats, p, momentum, eps);
        else Launch(x, gamma, beta, runningMean, runningVar, y, stats, p, momentum, eps);
        return (y, stats);
    }

    /// <summary>Gradients of <see cref="TrainingForward"/> with respect to x, γ and β, given the forward's batch statistics.</summary>
    public static (Tensor Dx, Tensor DGamma, Tensor DBeta) Backward(Tensor gradOutput, Tensor x, Tensor gamma, Tensor stats)
    {
        const string op = "batch_norm_backward";
        var p = PlanFor(x, gamma, op);
        Check.DType(gradOutput, DType.Float32, op, "gradOutput");
        Check.DType(stats, DType.Float32, op, "stats");
        Check.That(gradOutput.Shape == x.Shape, op, $"gradOutput {gradOutput.Shape} must have the shape of input {x.Shape}");
        Check.That(stats.Shape == new Shape(p.Channels, 2), op, $"stats {stats.Shape} must be [{p.Channels}, 2]");
        Check.SameDevice(op, gradOutput, x, gamma, stats);

        var dx = Tensor.Empty(x.Shape, DType.Float32, x.Device);
        var dgamma = Tensor.Zeros(gamma.Shape, DType.Float32, x.Device);
        var dbeta = Tensor.Zeros(gamma.Shape, DType.Float32, x.Device);
        if (x.Numel == 0) return (dx, dgamma, dbeta);
        if (x.Device.IsCpu) RunBackwardCpu(gradOutput, x, gamma, stats, dx, dgamma, dbeta, p);
        else LaunchBackward(gradOutput, x, gamma, stats, dx, dgamma, dbeta, p);
        return (dx, dgamma, dbeta);
    }

    private readonly record struct Plan(long Batch, int Channels, long Spatial)
    {
        public long PerChannel => Batch * Spatial;
    }

    private static Plan PlanFor(Tensor x, Tensor gamma, string op)
    {
        Check.DType(x, DType.Float32, op, "input");
        Check.DType(gamma, DType.Float32, op, "gamma");
        Check.That(x.Rank >= 2, op, $"input must be (N, C, ...), got {x.Shape}");
        Check.That(gamma.Rank == 1 && gamma.Shape[0] == x.Shape[1], op, $"gamma {gamma.Shape} must be [{x.Shape[1]}] for input {x.Shape}");
        long spatial = 1;
        for (int d = 2; d < x.Rank; d++) spatial *= x.Shape[d];
        return new Plan(x.Shape[0], x.Shape[1], spatial);
    }

    /// <summary>The values of channel <paramref name="c"/> gathered into one run, sample after sample.</summary>
    private static unsafe void Gather(float* source, long c, Plan p, Span<float> run)
    {
        int spatial = (int)p.Spatial;
        for (long n = 0; n < p.Batch; n++)
            new ReadOnlySpan<float>(source + (n * p.Channels + c) * p.Spatial, spatial).CopyTo(run.Slice((int)(n * spatial), spatial));
    }

    private static unsafe void RunCpu(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, Tensor stats,
        Plan p, float momentum, float eps)
    {
        float* input = (float*)x.Pointer, output = (float*)y.Pointer, g = (float*)gamma.Pointer, b = (float*)beta.Pointer;
        float* rm = (float*)runningMean.Pointer, rv = (float*)runningVar.Pointer, st = (float*)stats.Pointer;
        int spatial = checked((int)p.Spatial), m = checked((int)p.PerChannel);
        CpuThreads.For(p.Channels, (start, end) =>
        {
            var deviations = new float[m];
            for (int c = start; c < end; c++)
            {
                Gather(input, c, p, deviations);
                float mean = TensorPrimitives.Sum<float>(deviations) / m;
                TensorPrimitives.Subtract(deviations, mean, deviations);
                float var = TensorPrimitives.SumOfSquares<float>(deviations) / m;
                float rstd = 1f / MathF.Sqrt(var + eps);
                st[2 * c] = mean;
                st[2 * c + 1] = rstd;
                rm[c] = (1f - momentum) * rm[c] + momentum * mean;
                rv[c] = (1f - momentum) * rv[c] + momentum * var * m / (m - 1);
                float scale = rstd * g[c], shift = b[c] - mean * scale;
                for (long n = 0; n < p.Batch; n++)
                {
                    long at = (n * p.Channels + c) * p.Spatial;
                    var result = new Span<float>(output + at, spatial);
                    TensorPrimitives.Multiply(new ReadOnlySpan<float>(input + at, spatial), scale, result);
                    TensorPrimitives.Add(result, shift, result);
                }
            }
        });
    }

    private static unsafe void RunBackwardCpu(Tensor gradOutput, Tensor x, Tensor gamma, Tensor stats, Tensor dx, Tensor dgamma, Tensor dbeta, Plan p)
    {
        float* input = (float*)x.Pointer, grad = (float*)gradOutput.Pointer, result = (float*)dx.Pointer, g = (float*)gamma.Pointer;
        float* st = (float*)stats.Pointer, dg = (float*)dgamma.Pointer, db = (float*)dbeta.Pointer;
        int spatial = checked((int)p.Spatial), m = checked((int)p.PerChannel);
        CpuThreads.For(p.Channels, (start, end) =>
        {
            var xhat = new float[m];
            var dy = new float[m];
            for (int c = start; c < end; c++)
            {
                float mean = st[2 * c], rstd = st[2 * c + 1];
                Gather(input, c, p, xhat);
                Gather(grad, c, p, dy);
                TensorPrimitives.Subtract(xhat, mean, xhat);
                TensorPrimitives.Multiply(xhat, rstd, xhat);
                float sum = TensorPrimitives.Sum<float>(dy), weighted = TensorPrimitives.Dot<float>(dy, xhat);
                db[c] = sum;
                dg[c] = weighted;
                // dx = γ·rstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), written plane by plane back into NCHW.
                float scale = g[c] * rstd;
                for (long n = 0; n < p.Batch; n++)
                {
                    var plane = new Span<float>(result + (n * p.Channels + c) * p.Spatial, spatial);
                    int from = (int)(n * spatial);
                    TensorPrimitives.MultiplyAdd(xhat.AsSpan(from, spatial), -weighted / m, dy.AsSpan(from, spatial), plane);
                    TensorPrimitives.Add(plane, -sum / m, plane);
                    TensorPrimitives.Multiply(plane, scale, plane);
                }
            }
        });
    }

    // One block per channel; a full block only when the channel has enough values to use it.
    private static Dim3 ChannelGrid(int channels) => new((uint)Math.Min(channels, 65535));

    private static Dim3 ChannelBlock(long perChannel) => new(perChannel >= 1024 ? 1024u : 256u);

    private static unsafe void Launch(Tensor x, Tensor gamma, Tensor beta, Tensor runningMean, Tensor runningVar, Tensor y, Tensor stats,
        Plan p, float momentum, float eps)
    {
        var gpu = x.Device.Gpu;
        nint input = x.Pointer, statsPtr = stats.Pointer, rm = runningMean.Pointer, rv = runningVar.Pointer;
        nint g = gamma.Pointer, b = beta.Pointer, output = y.Pointer;
        long batch = p.Batch, channels = p.Channels, spatial = p.Spatial, n = x.Numel;
        void** statsArgs = stackalloc void*[] { &input, &statsPtr, &rm, &rv, &batch, &channels, &spatial, &momentum, &eps };
        gpu.Launch(gpu.GetKernel(Source, "batch_norm_stats_f32"), ChannelGrid(p.Channels), ChannelBlock(p.PerChannel), 0, statsArgs, 9);
        void** applyArgs = stackalloc void*[] { &input, &statsPtr, &g, &b, &output, &n, &channels, &spatial };
        gpu.Launch(gpu.GetKernel(Source, "batch_norm_apply_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, applyArgs, 8);
    }

    private static unsafe void LaunchBackward(Tensor gradOutput, Tensor x, Tensor gamma, Tensor stats, Tensor dx, Tensor dgamma, Tensor dbeta, Plan p)
    {
        var gpu = x.Device.Gpu;
        nint grad = gradOutput.Pointer, input = x.Pointer, statsPtr = stats.Pointer, g = gamma.Pointer;
        nint dg = dgamma.Pointer, db = dbeta.Pointer, result = dx.Pointer;
        long batch = p.Batch, channels = p.Channels, spatial = p.Spatial, n = x.Numel, m = p.PerChannel;
        void** paramArgs = stackalloc void*[] { &grad, &input, &statsPtr, &dg, &db, &batch, &channels, &spatial };
        gpu.Launch(gpu.GetKernel(Source, "batch_norm_backward_params_f32"), ChannelGrid(p.Channels), ChannelBlock(m), 0, paramArgs, 8);
        void** inputArgs = stackalloc void*[] { &grad, &input, &statsPtr, &g, &dg, &db, &result, &n, &channels, &spatial, &m };
        gpu.Launch(gpu.GetKernel(Source, "batch_norm_backward_input_f32"), Dim3.Cover(n, 256), new Dim3(256), 0, inputArgs, 11);
    }
}
