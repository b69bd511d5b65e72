using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Activations;

/// <summary>ReLU's backward on feature maps: bandwidth only (two reads, one write per element).</summary>
internal sealed class ReluBackwardBenchmark : KernelBenchmark<int[]>
{
    public override string Name => "relu_backward";

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
        return (n, 3 * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] shape, int copies)
    {
        var grads = new Tensor[copies];
        var outputs = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            grads[i] = RandomTensors.Normal(device, 2 * i + 1, 1, shape);
            using var x = RandomTensors.Uniform(device, 2 * i + 2, -1, 1, shape);
            outputs[i] = Activation.Relu(x);
        }
        return new BenchmarkCase(copies, i => Activation.ReluBackward(grads[i], outputs[i]).Dispose(), [.. grads, .. outputs]);
    }
}
