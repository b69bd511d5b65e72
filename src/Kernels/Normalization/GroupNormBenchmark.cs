using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Normalization;

/// <summary>GroupNorm(32, 256) with ReLU, as the FCOS/BlendMask towers apply it to the P3 and P2 maps of an 800×1333 image.</summary>
internal sealed class GroupNormBenchmark : KernelBenchmark<int[]>
{
    private const int Groups = 32;

    public override string Name => "group_norm";

    protected override IEnumerable<int[]> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [[1, 64, 30, 40]],
        BenchmarkPreset.Paper => [[1, 256, 100, 168], [1, 256, 200, 336]],
        BenchmarkPreset.Large => [[2, 256, 400, 672]],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(int[] shape) => $"gn{Groups}-relu {string.Join("x", shape)}";

    protected override (long Flops, long Bytes) Cost(int[] shape)
    {
        // Statistics: a sum and a sum of squares (3 operations); apply: scale, shift, ReLU (3).
        long n = new Shape(shape).Numel;
        return (6 * n, 2 * n * sizeof(float) + 2L * shape[1] * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, int[] shape, int copies)
    {
        var xs = new Tensor[copies];
        var gammas = new Tensor[copies];
        var betas = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            xs[i] = RandomTensors.Uniform(device, 10 * i + 1, -1, 3, shape);
            gammas[i] = RandomTensors.Uniform(device, 10 * i + 2, 0.5f, 1.5f, shape[1]);
            betas[i] = RandomTensors.Uniform(device, 10 * i + 3, -0.5f, 0.5f, shape[1]);
        }
        return new BenchmarkCase(copies, i => GroupNorm.Forward(xs[i], Groups, gammas[i], betas[i], relu: true).Dispose(), [.. xs, .. gammas, .. betas]);
    }
}
