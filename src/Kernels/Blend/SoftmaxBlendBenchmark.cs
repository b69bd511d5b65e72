using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Blend;

/// <summary>BlendMask's blend of 4 bases at 56×56 for a typical (100) and a full (1000 before the final cut) set of detections.</summary>
internal sealed class SoftmaxBlendBenchmark : KernelBenchmark<SoftmaxBlendBenchmark.Size>
{
    public sealed record Size(int Items, int K, int Side);

    public override string Name => "softmax_blend";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(10, 4, 56)],
        BenchmarkPreset.Paper => [new(100, 4, 56)],
        BenchmarkPreset.Large => [new(1000, 4, 56)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Items}x{s.K}x{s.Side}x{s.Side}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long outputs = (long)s.Items * s.Side * s.Side;
        // Per basis a max, a subtraction, an exp (counted as one), an add and a multiply-add; then the sigmoid.
        return (outputs * (6L * s.K + 4), (2L * s.K + 1) * outputs * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var tensors = new List<Tensor>();
        for (int i = 0; i < copies; i++)
        {
            tensors.Add(RandomTensors.Uniform(device, 10 * i + 1, -4, 4, s.Items, s.K, s.Side, s.Side));
            tensors.Add(RandomTensors.Uniform(device, 10 * i + 2, -3, 3, s.Items, s.K, s.Side, s.Side));
        }
        return new BenchmarkCase(copies, i => SoftmaxBlend.Forward(tensors[2 * i], tensors[2 * i + 1]).Dispose(), tensors);
    }
}
