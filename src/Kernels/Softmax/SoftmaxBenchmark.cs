using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Softmax;

/// <summary>Softmax over the box head's 81 class logits for 1000 proposals, and over a non-local block's 14×14 RoI attention rows (100 RoIs).</summary>
internal sealed class SoftmaxBenchmark : KernelBenchmark<SoftmaxBenchmark.Size>
{
    public sealed record Size(string Name, int Rows, int Cols);

    public override string Name => "softmax";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("box-classes", 100, 81), new("roi-attention", 10 * 196, 196)],
        BenchmarkPreset.Paper => [new("box-classes", 1000, 81), new("roi-attention", 100 * 196, 196)],
        BenchmarkPreset.Large => [new("roi-attention", 1000 * 196, 196)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.Rows}x{s.Cols}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        // Max, subtract and exp, sum, divide: about 5 operations per element.
        long n = (long)s.Rows * s.Cols;
        return (5 * n, 2 * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++) xs[i] = RandomTensors.Uniform(device, i + 1, -6, 6, s.Rows, s.Cols);
        return new BenchmarkCase(copies, i => Softmax.LastDim(xs[i]).Dispose(), xs);
    }
}
