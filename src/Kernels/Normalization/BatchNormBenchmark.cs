using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Normalization;

/// <summary>
/// Training-mode BatchNorm, forward (statistics, running-statistics update, normalisation) or backward, on a
/// ResNet-18 res2 map of the default model's 256×256 training images and a ResNet-50 res2 map of an 800×1333 batch.
/// </summary>
internal sealed class BatchNormBenchmark(bool backward = false) : KernelBenchmark<int[]>
{
    public override string Name => backward ? "batch_norm_backward" : "batch_norm";

    protected override IEnumerable<int[]> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [[2, 64, 64, 64]],
        BenchmarkPreset.Paper => [[2, 64, 64, 64], [2, 256, 200, 336]],
        BenchmarkPreset.Large => [[8, 256, 200, 336]],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(int[] shape) => $"bn-train {string.Join("x", shape)}";

    protected override (long Flops, long Bytes) Cost(int[] shape)
    {
        // Forward: mean, squared deviations (3 operations), scale and shift (2); x read three times, y written.
        // Backward: the two sums (4) and dx (5); x and dy read twice, dx written.
        long n = new Shape(shape).Numel;
        return backward ? (9 * n, 5 * n * sizeof(float)) : (5 * n, 4 * n * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] shape, int copies)
    {
        var xs = new Tensor[copies];
        var grads = new Tensor[copies];
        var stats = new Tensor[copies];
        var channels = new Tensor[copies * 4];
        for (int i = 0; i < copies; i++)
        {
            xs[i] = RandomTensors.Uniform(device, 10 * i + 1, -1, 3, shape);
            grads[i] = RandomTensors.Normal(device, 10 * i + 2, 1, shape);
            for (int k = 0; k < 4; k++) channels[4 * i + k] = RandomTensors.Uniform(device, 10 * i + 3 + k, 0.5f, 1.5f, shape[1]);
            var (y, s) = BatchNorm.TrainingForward(xs[i], channels[4 * i], channels[4 * i + 1], channels[4 * i + 2], channels[4 * i + 3], 0.1f, 1e-5f);
            y.Dispose();
            stats[i] = s;
        }
        return new BenchmarkCase(copies, i =>
        {
            if (!backward)
            {
                var (y, s) = BatchNorm.TrainingForward(xs[i], channels[4 * i], channels[4 * i + 1], channels[4 * i + 2], channels[4 * i + 3], 0.1f, 1e-5f);
                y.Dispose();
                s.Dispose();
                return;
            }
            var (dx, dgamma, dbeta) = BatchNorm.Backward(grads[i], xs[i], channels[4 * i], stats[i]);
            dx.Dispose();
            dgamma.Dispose();
            dbeta.Dispose();
        }, [.. xs, .. grads, .. stats, .. channels]);
    }
}
