using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Optimizer;

/// <summary>
/// One SGD step and one squared norm over a parameter the size of R50's largest 3×3 conv (512·512·9) and over
/// the whole R50-FPN Mask R-CNN (44M floats): both are pure bandwidth (SGD reads three arrays and writes two).
/// </summary>
internal sealed class OptimizerBenchmark : KernelBenchmark<OptimizerBenchmark.Size>
{
    public sealed record Size(string Op, int Elements);

    public override string Name => "optimizer";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset)
    {
        int n = preset switch
        {
            BenchmarkPreset.Small => 100_000,
            BenchmarkPreset.Paper => 512 * 512 * 9,
            BenchmarkPreset.Large => 44_000_000,
            _ => throw new ArgumentOutOfRangeException(nameof(preset)),
        };
        return [new("sgd_step", n), new("squared_norm", n)];
    }

    protected override string Label(Size s) => $"{s.Op} {s.Elements}";

    protected override (long Flops, long Bytes) Cost(Size s) => s.Op == "sgd_step"
        ? (5L * s.Elements, 5L * s.Elements * sizeof(float))
        : (2L * s.Elements, (long)s.Elements * sizeof(float));

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var param = new Tensor[copies];
        var grad = new Tensor[copies];
        var momentum = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            param[i] = RandomTensors.Uniform(device, 3 * i + 1, -1, 1, s.Elements);
            grad[i] = RandomTensors.Uniform(device, 3 * i + 2, -1, 1, s.Elements);
            momentum[i] = Tensor.Zeros(new Shape(s.Elements), DType.Float32, device);
        }
        Action<int> run = s.Op == "sgd_step"
            ? i => Sgd.Step(param[i], grad[i], momentum[i], 1e-4f, 0.9f, 1e-4f)
            : i => GradientNorm.SumOfSquares(grad[i]);
        return new BenchmarkCase(copies, run, [.. param, .. grad, .. momentum]);
    }
}
