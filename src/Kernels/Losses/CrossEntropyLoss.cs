using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Losses;

/// <summary>
/// Softmax cross-entropy over the rows of float32 logits [R, C] against int64 class indices [R], as
/// torch's F.cross_entropy (no class weights, no ignore index). A target outside [0, C) is an error on the
/// CPU and gives NaN on a GPU.
/// </summary>
public static class CrossEntropyLoss
{
    private const string Op = "cross_entropy";

    /// <summary>The loss [1]: scale · Σ_r (logsumexp(logits[r]) − logits[r, targets[r]]), divided by R for a mean.</summary>
    public static Tensor Forward(Tensor logits, Tensor targets, LossReduction reduction = LossReduction.Mean, float scale = 1f)
    {
        CheckInputs(logits, targets);
        float factor = LossTotals.Factor(Op, reduction, scale, logits.Shape[0]);
        using var terms = Tensor.Empty(logits.Device, DType.Float32, logits.Shape[0]);
        if (terms.Numel > 0)
        {
            if (logits.Device.IsCpu) RunCpu(logits, targets, terms);
            else Launch(logits, targets, terms);
        }
        return LossTotals.Reduce(terms, factor);
    }

    /// <summary>
    /// d loss / d logits [R, C] = (softmax(logits) − onehot(targets)) · factor · gradLoss, where factor is the
    /// forward's multiplier and <paramref name="gradLoss"/> (one float32, default 1) the upstream gradient.
    /// </summary>
    public static Tensor Backward(Tensor logits, Tensor targets, LossReduction reduction = LossReduction.Mean, float scale = 1f, Tensor? gradLoss = null)
    {
        CheckInputs(logits, targets);
        LossTotals.CheckUpstream(Op, gradLoss, logits);
        float factor = LossTotals.Factor(Op, reduction, scale, logits.Shape[0]);
        var grad = Tensor.Empty(logits.Shape, DType.Float32, logits.Device);
        if (grad.Numel == 0) return grad;
        if (logits.Device.IsCpu) RunCpuBackward(logits, targets, LossTotals.CpuUpstream(gradLoss, factor), grad);
        else LaunchBackward(logits, targets, gradLoss, factor, grad);
        return grad;
    }

    private static void CheckInputs(Tensor logits, Tensor targets)
    {
        Check.Rank(logits, 2, Op, "logits");
        Check.DType(logits, DType.Float32, Op, "logits");
        Check.Rank(targets, 1, Op, "targets");
        Check.DType(targets, DType.Int64, Op, "targets");
        Check.That(targets.Shape[0] == logits.Shape[0], Op, $"targets {targets.Shape} must have one class index per row of logits {logits.Shape}");
        Check.That(logits.Shape[1] > 0 || logits.Shape[0] == 0, Op, $"logits {logits.Shape} have rows but no classes");
        Check.SameDevice(Op, logits, targets);
        if (!targets.Device.IsCpu) return;
        var t = targets.AsSpan<long>();
        for (int r = 0; r < t.Length; r++)
            Check.That(t[r] >= 0 && t[r] < logits.Shape[1], Op, $"target {t[r]} of row {r} is outside the {logits.Shape[1]} classes");
    }

    private unsafe delegate void RowAction(int r, float* row, int target);

    /// <summary>Runs <paramref name="action"/> on every row in parallel.</summary>
    private static unsafe void ForEachRow(Tensor logits, Tensor targets, RowAction action)
    {
        int rows = logits.Shape[0], cols = logits.Shape[1];
        float* x = (float*)logits.Pointer;
        long* t = (long*)targets.Pointer;
        CpuThreads.For(rows, (start, end) =>
        {
            for (int r = start; r < end; r++) action(r, x + (long)r * cols, (int)t[r]);
        }, grain: Math.Max(1, (1 << 14) / cols));
    }

    private static unsafe void RunCpu(Tensor logits, Tensor targets, Tensor terms)
    {
        int cols = logits.Shape[1];
        float* output = (float*)terms.Pointer;
        ForEachRow(logits, targets, (r, row, target) => output[r] = LogSumExp(row, cols) - row[target]);
    }

    private static unsafe void RunCpuBackward(Tensor logits, Tensor targets, float upstream, Tensor grad)
    {
        int cols = logits.Shape[1];
        float* output = (float*)grad.Pointer;
        ForEachRow(logits, targets, (r, row, target) =>
        {
            float lse = LogSumExp(row, cols);
            float* g = output + (long)r * cols;
            for (int c = 0; c < cols; c++) g[c] = (MathF.Exp(row[c] - lse) - (c == target ? 1f : 0f)) * upstream;
        });
    }

    private static unsafe float LogSumExp(float* row, int cols)
    {
        float m = float.NegativeInfinity;
        for (int c = 0; c < cols; c++) m = MathF.Max(m, row[c]);
        float s = 0;
        for (int c = 0; c < cols; c++) s += MathF.Exp(row[c] - m);
        return m + MathF.Log(s);
    }

    private const int Block = 128;

    private static unsafe void Launch(Tensor logits, Tensor targets, Tensor terms)
    {
        var gpu = logits.Device.Gpu;
        nint x = logits.Pointer, t = targets.Pointer, o = terms.Pointer;
        long rows = logits.Shape[0];
        int cols = logits.Shape[1];
        void** args = stackalloc void*[] { &x, &t, &rows, &cols, &o };
        gpu.Launch(gpu.GetKernel(LossTotals.Source, "cross_entropy_terms_f32"), Dim3.Cover(rows, Block), new Dim3(Block), 0, args, 5);
    }

    private static unsafe void LaunchBackward(Tensor logits, Tensor targets, Tensor? gradLoss, float factor, Tensor grad)
    {
        var gpu = logits.Device.Gpu;
        nint x = logits.Pointer, t = targets.Pointer, upstream = gradLoss?.Pointer ?? 0, o = grad.Pointer;
        long rows = logits.Shape[0];
        int cols = logits.Shape[1];
        void** args = stackalloc void*[] { &x, &t, &rows, &cols, &upstream, &factor, &o };
        gpu.Launch(gpu.GetKernel(LossTotals.Source, "cross_entropy_backward_f32"), Dim3.Cover(rows, Block), new Dim3(Block), 0, args, 7);
    }
}
