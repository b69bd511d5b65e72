using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Normalization;

internal static class BatchNormChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("batch_norm/odd-spatial", [2, 6, 5, 7], offset: 0),
        new Case("batch_norm/large-mean", [3, 4, 3, 3], offset: 100),
        new Case("batch_norm/rank2", [8, 5], offset: 0),
        new Case("batch_norm/two-values", [2, 3, 1, 1], offset: 0),
        new Case("batch_norm/resnet-stage", [2, 64, 33, 40], offset: 0.5f),
        new Case("batch_norm/empty-batch", [0, 4, 3, 3], offset: 0),
        new BackwardCase("batch_norm_backward/odd-spatial", [2, 6, 5, 7], offset: 0),
        new BackwardCase("batch_norm_backward/large-mean", [3, 4, 3, 3], offset: 100),
        new BackwardCase("batch_norm_backward/rank2", [8, 5], offset: 0),
        new BackwardCase("batch_norm_backward/resnet-stage", [2, 64, 33, 40], offset: 0.5f),
        new BackwardCase("batch_norm_backward/empty-batch", [0, 4, 3, 3], offset: 0),
    ];

    /// <summary>Seeded γ, β and running statistics of one case, freed together.</summary>
    private sealed class ChannelTensors(Device device, int channels) : IDisposable
    {
        public Tensor Gamma { get; } = RandomTensors.Uniform(device, 21, 0.5f, 1.5f, channels);

        public Tensor Beta { get; } = RandomTensors.Normal(device, 22, 1f, channels);

        public Tensor Mean { get; } = RandomTensors.Normal(device, 23, 1f, channels);

        public Tensor Var { get; } = RandomTensors.Uniform(device, 24, 0.5f, 2f, channels);

        public (Tensor Y, Tensor Stats) Forward(Tensor x) => BatchNorm.TrainingForward(x, Gamma, Beta, Mean, Var, 0.1f, 1e-5f);

        public void Dispose()
        {
            Gamma.Dispose();
            Beta.Dispose();
            Mean.Dispose();
            Var.Dispose();
        }
    }

    /// <summary>The output, the batch statistics and the updated running statistics.</summary>
    private sealed class Case(string name, int[] shape, float offset) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 20, offset - 3, offset + 3, shape);
            using var channels = new ChannelTensors(device, shape[1]);
            var (y, stats) = channels.Forward(x);
            return [RandomTensors.ToCpu(y), RandomTensors.ToCpu(stats), RandomTensors.ToCpu(channels.Mean.Share()), RandomTensors.ToCpu(channels.Var.Share())];
        }
    }

    private sealed class BackwardCase(string name, int[] shape, float offset) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 25, offset - 3, offset + 3, shape);
            using var gradOutput = RandomTensors.Normal(device, 26, 1f, shape);
            using var channels = new ChannelTensors(device, shape[1]);
            var (y, stats) = channels.Forward(x);
            y.Dispose();
            using (stats)
            {
                var (dx, dgamma, dbeta) = BatchNorm.Backward(gradOutput, x, channels.Gamma, stats);
                return [RandomTensors.ToCpu(dx), RandomTensors.ToCpu(dgamma), RandomTensors.ToCpu(dbeta)];
            }
        }
    }
}
