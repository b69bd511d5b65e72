using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Activations;

/// <summary>
/// The activations detection heads apply to their scores, at the mask head's size: sigmoid over the per-class 28×28
/// logits, as mask post-processing applies it, or the square root FCOS takes of cls·ctr (on values in [0, 1]).
/// </summary>
internal sealed class ScoreActivationBenchmark(bool sqrt = false) : KernelBenchmark<int[]>
{
    public override string Name => sqrt ? "sqrt" : "sigmoid";

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
        // Sigmoid: exp, add, divide, counted as four operations per element; a square root as one.
        long n = new Shape(shape).Numel;
        return ((sqrt ? 1 : 4) * n, 2 * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] shape, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++) xs[i] = RandomTensors.Uniform(device, i + 1, sqrt ? 0 : -8, sqrt ? 1 : 8, shape);
        Func<Tensor, Tensor> op = sqrt ? Activation.Sqrt : Activation.Sigmoid;
        return new BenchmarkCase(copies, i => op(xs[i]).Dispose(), xs);
    }
}
