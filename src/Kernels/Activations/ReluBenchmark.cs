using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Activations;

/// <summary>
/// ReLU on feature maps, or its backward: pure bandwidth tests (one read and one write per element; the backward
/// reads the gradient and the forward's output).
/// </summary>
internal sealed class ReluBenchmark(bool backward = false) : KernelBenchmark<int[]>
{
    public override string Name => backward ? "relu_backward" : "relu";

    protected override IEnumerable<int[]> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [[1, 64, 56, 56], [3, 5, 7, 11]],
        BenchmarkPreset.Paper => [[1, 256, 200, 272], [1, 64, 400, 544]],
        BenchmarkPreset.Large => [[2, 256, 400, 544]],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(int[] shape) => string.Join("x", shape);

    protected override (long Flops, long Bytes) Cost(int[] shape)
    {
        long n = new Shape(shape).Numel;
        return (n, (backward ? 3 : 2) * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] shape, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++) xs[i] = RandomTensors.Uniform(device, i + 1, -1, 1, shape);
        if (!backward) return new BenchmarkCase(copies, i => Activation.Relu(xs[i]).Dispose(), xs);
        var grads = new Tensor[copies];
        var outputs = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            grads[i] = RandomTensors.Normal(device, 2 * i + 1, 1, shape);
            outputs[i] = Activation.Relu(xs[i]);
        }
        return new BenchmarkCase(copies, i => Activation.ReluBackward(grads[i], outputs[i]).Dispose(), [.. xs, .. grads, .. outputs]);
    }
}
