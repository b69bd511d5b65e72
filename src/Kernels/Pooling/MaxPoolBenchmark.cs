using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Pooling;

/// <summary>The ResNet stem's 3×3 stride-2 max pool and the FPN's P6 (1×1 stride 2 on P5), for an 800×1333 image.</summary>
internal sealed class MaxPoolBenchmark : KernelBenchmark<MaxPoolBenchmark.Size>
{
    public sealed record Size(string Name, int[] Shape, int Kernel, int Stride, int Padding)
    {
        public int OutH => (Shape[2] + 2 * Padding - Kernel) / Stride + 1;

        public int OutW => (Shape[3] + 2 * Padding - Kernel) / Stride + 1;
    }

    public override string Name => "max_pool2d";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("stem-3x3-s2", [1, 16, 60, 80], 3, 2, 1), new("p6-1x1-s2", [1, 16, 7, 9], 1, 2, 0)],
        BenchmarkPreset.Paper => [new("stem-3x3-s2", [1, 64, 400, 672], 3, 2, 1), new("p6-1x1-s2", [1, 256, 25, 42], 1, 2, 0)],
        BenchmarkPreset.Large => [new("stem-3x3-s2", [8, 64, 400, 672], 3, 2, 1)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {string.Join("x", s.Shape)}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long outputs = (long)s.Shape[0] * s.Shape[1] * s.OutH * s.OutW;
        return (outputs * s.Kernel * s.Kernel, (new Shape(s.Shape).Numel + outputs) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++) xs[i] = RandomTensors.Uniform(device, i + 1, -1, 1, s.Shape);
        return new BenchmarkCase(copies, i => MaxPool.Forward2d(xs[i], s.Kernel, s.Stride, s.Padding).Dispose(), xs);
    }
}
