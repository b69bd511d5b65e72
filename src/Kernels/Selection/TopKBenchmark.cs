using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Selection;

/// <summary>
/// The RPN's pre-NMS top-k: the 1000 best objectness scores of P2's 200·334·3 = 200,400 anchors (one
/// long row, the split-row path), and of 1000-score rows (a row per thread).
/// </summary>
internal sealed class TopKBenchmark : KernelBenchmark<TopKBenchmark.Size>
{
    public sealed record Size(string Name, int Rows, int Cols, int K);

    public override string Name => "topk";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("rpn-p2", 1, 40000, 200), new("rows", 8, 1000, 10)],
        BenchmarkPreset.Paper => [new("rpn-p2", 1, 200400, 1000), new("rows", 100, 1000, 100)],
        BenchmarkPreset.Large => [new("rpn-p2", 8, 200400, 1000)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.Rows}x{s.Cols} k{s.K}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        // One comparison per element dominates; the k survivors are written as values and int64 indices.
        long n = (long)s.Rows * s.Cols;
        return (n, n * sizeof(float) + (long)s.Rows * s.K * (sizeof(float) + sizeof(long)));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++) xs[i] = RandomTensors.Normal(device, i + 1, 3, s.Rows, s.Cols);
        return new BenchmarkCase(copies, i =>
        {
            var (values, indices) = TopK.LastDim(xs[i], s.K);
            values.Dispose();
            indices.Dispose();
        }, xs);
    }
}
