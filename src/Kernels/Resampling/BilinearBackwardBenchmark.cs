using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

/// <summary>
/// The backward of BPR's logits upsampling to the label size (1/4 of the input → the input, align_corners false):
/// input [N, C, H, W], gradient [N, C, 4H, 4W].
/// </summary>
internal sealed class BilinearBackwardBenchmark : KernelBenchmark<int[]>
{
    public override string Name => "resize_bilinear_backward";

    protected override IEnumerable<int[]> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [[2, 2, 8, 8]],
        BenchmarkPreset.Paper => [[8, 2, 32, 32]],
        BenchmarkPreset.Large => [[32, 2, 64, 64]],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(int[] input) => $"bpr-logits-4x {string.Join("x", input)}";

    // Each input gathers about 8×8 weighted outputs; every output is read by four inputs.
    protected override (long Flops, long Bytes) Cost(int[] input)
    {
        long n = new Shape(input).Numel;
        return (2 * 64 * n, (16 + 1) * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] input, int copies)
    {
        var grads = new Tensor[copies];
        for (int i = 0; i < copies; i++) grads[i] = RandomTensors.Normal(device, i + 1, 1, input[0], input[1], 4 * input[2], 4 * input[3]);
        return new BenchmarkCase(copies, i => Resize.BilinearBackward(grads[i], input[2], input[3], alignCorners: false).Dispose(), grads);
    }
}
