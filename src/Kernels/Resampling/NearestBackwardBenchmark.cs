using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

/// <summary>The backward of the FPN top-down path's nearest 2× upsampling (P3 to P2 size): four gradients summed per input.</summary>
internal sealed class NearestBackwardBenchmark : KernelBenchmark<int[]>
{
    public override string Name => "resize_nearest_backward";

    protected override IEnumerable<int[]> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [[1, 16, 15, 21]],
        BenchmarkPreset.Paper => [[1, 256, 100, 168]],
        BenchmarkPreset.Large => [[2, 256, 200, 336]],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(int[] input) => $"fpn-nearest-2x {string.Join("x", input)}";

    protected override (long Flops, long Bytes) Cost(int[] input)
    {
        long n = new Shape(input).Numel;
        return (4 * n, 5 * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] input, int copies)
    {
        var grads = new Tensor[copies];
        for (int i = 0; i < copies; i++) grads[i] = RandomTensors.Normal(device, i + 1, 1, input[0], input[1], 2 * input[2], 2 * input[3]);
        return new BenchmarkCase(copies, i => Resize.NearestBackward(grads[i], input[2], input[3]).Dispose(), grads);
    }
}
