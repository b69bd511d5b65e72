using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Indexing;

/// <summary>
/// The gradient of <see cref="Gather.Rows"/> for float32: zeros of the input's shape with each gathered row's
/// gradient added back to the row it came from (repeated indices sum). Deterministic on every device: the host
/// groups positions by source row, so no two threads add into the same element.
/// </summary>
public static class GatherBackward
{
    private const string Op = "gather_backward";

    private static KernelSource Source => KernelCatalog.Get("Indexing/Indexing.cu");

    /// <param name="gradOutput">[count, ...] gradient of the gathered rows.</param>
    /// <param name="index">The forward's int64 indices, on the CPU (training code samples them on the host).</param>
    /// <param name="inputRows">Rows of the forward's input.</param>
    public static Tensor Rows(Tensor gradOutput, Tensor index, int inputRows)
    {
        Check.DType(gradOutput, DType.Float32, Op, "gradient");
        Check.That(gradOutput.Rank >= 1, Op, $"gradient must have at least one dimension, got {gradOutput.Shape}");
        Check.That(index.DType == DType.Int64 && index.Rank == 1 && index.Shape[0] == gradOutput.Shape[0], Op,
            $"index must be a 1-D int64 tensor of {gradOutput.Shape[0]} entries, got {index.DType.Name()} {index.Shape}");
        Check.That(index.Device.IsCpu, Op, $"index must be on the CPU (it is grouped there), got {index.Device}");
        Check.That(inputRows >= 0, Op, $"input rows must not be negative, got {inputRows}");
        var idx = index.AsSpan<long>();
        for (int i = 0; i < idx.Length; i++)
        {
            if (idx[i] < 0 || idx[i] >= inputRows)
                throw new ArgumentException($"{Op}: index {idx[i]} at position {i} is outside [0, {inputRows})");
        }
        var dx = Tensor.Zeros(gradOutput.Shape.WithDim(0, inputRows), DType.Float32, gradOutput.Device);
        long row = gradOutput.Shape.InnerSize;
        if (idx.Length == 0 || row == 0) return dx;
        var (targets, offsets, positions) = Group(idx);
        if (gradOutput.Device.IsCpu) RunCpu(gradOutput, dx, targets, offsets, positions, row);
        else Launch(gradOutput, dx, targets, offsets, positions, row);
        return dx;
    }

    /// <summary>Positions grouped by the row they gathered: unique rows, CSR offsets, positions in forward order.</summary>
    private static (long[] Targets, long[] Offsets, long[] Positions) Group(ReadOnlySpan<long> index)
    {
        var keys = index.ToArray();
        // OrderBy is stable: each row's sources stay in forward order, so sums are the same on every device.
        var order = Enumerable.Range(0, keys.Length).OrderBy(i => keys[i]).Select(i => (long)i).ToArray();
        var targets = new List<long>();
        var offsets = new List<long>();
        for (int k = 0; k < order.Length; k++)
        {
            long target = keys[order[k]];
            if (targets.Count == 0 || targets[^1] != target)
            {
                targets.Add(target);
                offsets.Add(k);
            }
        }
        offsets.Add(order.Length);
        return ([.. targets], [.. offsets], order);
    }

    private static unsafe void RunCpu(Tensor gy, Tensor dx, long[] targets, long[] offsets, long[] positions, long row)
    {
        float* g = (float*)gy.Pointer, d = (float*)dx.Pointer;
        CpuThreads.For(targets.Length, (start, end) =>
        {
            for (int u = start; u < end; u++)
            {
                float* target = d + targets[u] * row;
                for (long k = offsets[u]; k < offsets[u + 1]; k++)
                {
                    float* source = g + positions[k] * row;
                    for (long c = 0; c < row; c++) target[c] += source[c];
                }
            }
        });
    }

    private static unsafe void Launch(Tensor gy, Tensor dx, long[] targets, long[] offsets, long[] positions, long row)
    {
        var gpu = gy.Device.Gpu;
        using var t = Tensor.FromArray(targets, targets.Length).To(gy.Device);
        using var o = Tensor.FromArray(offsets, offsets.Length).To(gy.Device);
        using var p = Tensor.FromArray(positions, positions.Length).To(gy.Device);
        nint gradient = gy.Pointer, tp = t.Pointer, op = o.Pointer, pp = p.Pointer, output = dx.Pointer;
        long unique = targets.Length;
        void** args = stackalloc void*[] { &gradient, &tp, &op, &pp, &output, &unique, &row };
        gpu.Launch(gpu.GetKernel(Source, "scatter_rows_add_f32"), Dim3.Cover(unique * row, 256), new Dim3(256), 0, args, 7);
    }
}
