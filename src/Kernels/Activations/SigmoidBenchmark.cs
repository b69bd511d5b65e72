using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Activations;

/// <summary>Sigmoid over the mask head's per-class 28×28 logits, as mask post-processing applies it.</summary>
internal sealed class SigmoidBenchmark : KernelBenchmark<int[]>
{
    public override string Name => "sigmoid";

    protected override IEnumerable<int[]> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [[10, 4, 28, 28]],
        BenchmarkPreset.Paper => [[100, 80, 28, 28]],
        BenchmarkPreset.Large => [[1000, 80, 28, 28]],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(int[] shape) => string.Join("x", shape);

    protected override (long Flops, long Bytes) Cost(int[] shape)
    {
        // exp, add, divide: counted as four operations per element.
        long n = new Shape(shape).Numel;
        return (4 * n, 2 * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] shape, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++) xs[i] = RandomTensors.Uniform(device, i + 1, -8, 8, shape);
        return new BenchmarkCase(copies, i => Activation.Sigmoid(xs[i]).Dispose(), xs);
    }
}
