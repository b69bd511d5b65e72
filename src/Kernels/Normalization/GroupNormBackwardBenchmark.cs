using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Normalization;

/// <summary>The backward of GroupNorm(32, 256) with affine parameters, on the P3 and P2 maps of an 800×1333 image.</summary>
internal sealed class GroupNormBackwardBenchmark : KernelBenchmark<int[]>
{
    private const int Groups = 32;

    public override string Name => "group_norm_backward";

    protected override IEnumerable<int[]> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [[1, 64, 30, 40]],
        BenchmarkPreset.Paper => [[1, 256, 100, 168], [1, 256, 200, 336]],
        BenchmarkPreset.Large => [[2, 256, 400, 672]],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(int[] shape) => $"gn{Groups} {string.Join("x", shape)}";

    protected override (long Flops, long Bytes) Cost(int[] shape)
    {
        // Statistics (3 operations), the two per-channel sums (4), dx (5); x is read three times, dy twice.
        long n = new Shape(shape).Numel;
        return (12 * n, 6 * n * sizeof(float) + 3L * shape[1] * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] shape, int copies)
    {
        var xs = new Tensor[copies];
        var grads = new Tensor[copies];
        var gammas = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            xs[i] = RandomTensors.Uniform(device, 10 * i + 1, -1, 3, shape);
            grads[i] = RandomTensors.Normal(device, 10 * i + 2, 1, shape);
            gammas[i] = RandomTensors.Uniform(device, 10 * i + 3, 0.5f, 1.5f, shape[1]);
        }
        return new BenchmarkCase(copies, i =>
        {
            var (dx, dgamma, dbeta) = GroupNorm.Backward(grads[i], xs[i], Groups, gammas[i]);
            dx.Dispose();
            dgamma?.Dispose();
            dbeta?.Dispose();
        }, [.. xs, .. grads, .. gammas]);
    }
}
