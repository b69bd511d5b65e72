using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Pooling;

/// <summary>The backward of the ResNet stem's 3×3 stride-2 max pool and of the FPN's P6, for an 800×1333 image.</summary>
internal sealed class MaxPoolBackwardBenchmark : KernelBenchmark<MaxPoolBenchmark.Size>
{
    public override string Name => "max_pool2d_backward";

    protected override IEnumerable<MaxPoolBenchmark.Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("stem-3x3-s2", [1, 16, 60, 80], 3, 2, 1), new("p6-1x1-s2", [1, 16, 7, 9], 1, 2, 0)],
        BenchmarkPreset.Paper => [new("stem-3x3-s2", [1, 64, 400, 672], 3, 2, 1), new("p6-1x1-s2", [1, 256, 25, 42], 1, 2, 0)],
        BenchmarkPreset.Large => [new("stem-3x3-s2", [8, 64, 400, 672], 3, 2, 1)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(MaxPoolBenchmark.Size s) => $"{s.Name} {string.Join("x", s.Shape)}";

    // Each input rescans the windows covering it: about (kernel/stride)² windows of kernel² reads.
    protected override (long Flops, long Bytes) Cost(MaxPoolBenchmark.Size s)
    {
        long inputs = new Shape(s.Shape).Numel, outputs = (long)s.Shape[0] * s.Shape[1] * s.OutH * s.OutW;
        long windows = (long)Math.Ceiling((double)s.Kernel / s.Stride) * (long)Math.Ceiling((double)s.Kernel / s.Stride);
        return (inputs * windows * s.Kernel * s.Kernel, (2 * inputs + outputs) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, MaxPoolBenchmark.Size s, int copies)
    {
        var xs = new Tensor[copies];
        var grads = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            xs[i] = RandomTensors.Uniform(device, 2 * i + 1, -1, 1, s.Shape);
            grads[i] = RandomTensors.Normal(device, 2 * i + 2, 1, s.Shape[0], s.Shape[1], s.OutH, s.OutW);
        }
        return new BenchmarkCase(copies, i => MaxPool.Backward2d(grads[i], xs[i], s.Kernel, s.Stride, s.Padding).Dispose(), [.. xs, .. grads]);
    }
}
