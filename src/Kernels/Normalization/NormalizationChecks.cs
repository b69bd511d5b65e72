using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Normalization;

internal static class NormalizationChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("group_norm/affine-odd-spatial", [2, 6, 5, 7], 3, affine: true, relu: false, offset: 0),
        new Case("group_norm/relu-fused", [1, 8, 9, 4], 4, affine: true, relu: true, offset: 0),
        new Case("group_norm/no-affine-large-mean", [2, 4, 3, 3], 2, affine: false, relu: false, offset: 100),
        new Case("group_norm/one-group-per-channel-rank3", [3, 5, 11], 5, affine: true, relu: false, offset: 0),
        new Case("group_norm/big-group", [1, 32, 40, 36], 8, affine: true, relu: true, offset: 0),
        new Case("group_norm/empty-batch", [0, 4, 3, 3], 2, affine: true, relu: false, offset: 0),
        new BackwardCase("group_norm_backward/affine-odd-spatial", [2, 6, 5, 7], 3, affine: true, offset: 0),
        new BackwardCase("group_norm_backward/no-affine-large-mean", [2, 4, 3, 3], 2, affine: false, offset: 100),
        new BackwardCase("group_norm_backward/one-group-per-channel-rank3", [3, 5, 11], 5, affine: true, offset: 0),
        new BackwardCase("group_norm_backward/one-group-rank2", [4, 6], 1, affine: true, offset: 0),
        new BackwardCase("group_norm_backward/big-group", [1, 32, 40, 36], 8, affine: true, offset: 0),
        new BackwardCase("group_norm_backward/empty-batch", [0, 4, 3, 3], 2, affine: true, offset: 0),
    ];

    private sealed class Case(string name, int[] shape, int groups, bool affine, bool relu, float offset) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 11, offset - 3, offset + 3, shape);
            using var gamma = affine ? RandomTensors.Uniform(device, 12, 0.5f, 1.5f, shape[1]) : null;
            using var beta = affine ? RandomTensors.Normal(device, 13, 1f, shape[1]) : null;
            return [RandomTensors.ToCpu(GroupNorm.Forward(x, groups, gamma, beta, 1e-5f, relu))];
        }
    }

    private sealed class BackwardCase(string name, int[] shape, int groups, bool affine, float offset) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 14, offset - 3, offset + 3, shape);
            using var gradOutput = RandomTensors.Normal(device, 15, 1f, shape);
            using var gamma = affine ? RandomTensors.Uniform(device, 16, 0.5f, 1.5f, shape[1]) : null;
            var (dx, dgamma, dbeta) = GroupNorm.Backward(gradOutput, x, groups, gamma, 1e-5f);
            return dgamma is null || dbeta is null
                ? [RandomTensors.ToCpu(dx)]
                : [RandomTensors.ToCpu(dx), RandomTensors.ToCpu(dgamma), RandomTensors.ToCpu(dbeta)];
        }
    }
}
