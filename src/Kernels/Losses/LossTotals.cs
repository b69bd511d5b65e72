using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Losses;

/// <summary>What every loss shares: its reduction's multiplier, the upstream gradient, and the sum of its terms.</summary>
internal static class LossTotals
{
    public static KernelSource Source => KernelCatalog.Get("Losses/Losses.cu");

    private const int Block = 256, MaxBlocks = 1024;

    /// <summary>The multiplier of Σ terms: <paramref name="scale"/>, or scale / count for a mean (NaN when count is 0).</summary>
    public static float Factor(string op, LossReduction reduction, float scale, long count)
    {
        Check.That(float.IsFinite(scale), op, $"scale {scale} must be finite");
        Check.That(reduction is LossReduction.Mean or LossReduction.Sum, op, $"unknown reduction {reduction}");
        if (reduction == LossReduction.Sum) return scale;
        return count == 0 ? float.NaN : (float)(scale / (double)count);
    }

    /// <summary>Checks the optional upstream gradient: one float32 on the input's device.</summary>
    public static void CheckUpstream(string op, Tensor? gradLoss, Tensor input)
    {
        if (gradLoss is null) return;
        Check.DType(gradLoss, DType.Float32, op, "gradLoss");
        Check.That(gradLoss.Numel == 1, op, $"gradLoss must hold one value (the loss's gradient), got {gradLoss.Shape}");
        Check.SameDevice(op, input, gradLoss);
    }

    /// <summary>factor × the upstream gradient, read on the CPU.</summary>
    public static float CpuUpstream(Tensor? gradLoss, float factor) => gradLoss is null ? factor : gradLoss.AsSpan<float>()[0] * factor;

    /// <summary>The loss [1] = factor · Σ terms, on the terms' device; the CPU adds in double, in order.</summary>
    public static Tensor Reduce(Tensor terms, float factor)
    {
        var loss = Tensor.Empty(terms.Device, DType.Float32, 1);
        if (terms.Device.IsCpu)
        {
            double sum = 0;
            foreach (float t in terms.AsSpan<float>()) sum += t;
            loss.AsSpan<float>()[0] = (float)(sum * factor);
        }
        else
        {
            LaunchReduce(terms, factor, loss);
        }
        return loss;
    }

    private static unsafe void LaunchReduce(Tensor terms, float factor, Tensor loss)
    {
        var gpu = terms.Device.Gpu;
        var kernel = gpu.GetKernel(Source, "loss_block_sums_f32");
        long n = terms.Numel;
        int blocks = (int)Math.Clamp((n + Block - 1) / Block, 1, MaxBlocks);
        using var partials = Tensor.Empty(terms.Device, DType.Float32, blocks);
        nint x = terms.Pointer, sums = partials.Pointer, total = loss.Pointer;
        float one = 1f;
        long count = blocks;
        void** first = stackalloc void*[] { &x, &n, &one, &sums };
        gpu.Launch(kernel, new Dim3((uint)blocks), new Dim3(Block), 0, first, 4);
        void** second = stackalloc void*[] { &sums, &count, &factor, &total };
        gpu.Launch(kernel, new Dim3(1), new Dim3(Block), 0, second, 4);
    }
}
