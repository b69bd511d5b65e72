using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Transpose;

/// <summary>The RPN's P2 deltas of an 800×1344 batch, [1, 12, 200·336] to anchor order, and a box head's class-major boxes.</summary>
internal sealed class TransposeBenchmark : KernelBenchmark<TransposeBenchmark.Size>
{
    public sealed record Size(string Name, int Batch, int Rows, int Cols, int Element);

    public override string Name => "transpose";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("rpn-deltas", 1, 12, 5000, 1)],
        BenchmarkPreset.Paper => [new("rpn-deltas", 1, 12, 67200, 1), new("class-major-boxes", 1, 1000, 91, 4)],
        BenchmarkPreset.Large => [new("rpn-deltas", 8, 12, 67200, 1)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.Batch}x{s.Rows}x{s.Cols}x{s.Element}";

    protected override (long Flops, long Bytes) Cost(Size s) => (0, 2L * s.Batch * s.Rows * s.Cols * s.Element * sizeof(float));

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++)
            xs[i] = s.Element == 1 ? RandomTensors.Normal(device, i + 1, 1, s.Batch, s.Rows, s.Cols) : RandomTensors.Normal(device, i + 1, 1, s.Batch, s.Rows, s.Cols, s.Element);
        int elementDims = s.Element == 1 ? 0 : 1;
        return new BenchmarkCase(copies, i => Transpose.LastTwo(xs[i], elementDims).Dispose(), xs);
    }
}
