using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Pooling;

internal static class PoolingChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("max_pool2d/fpn-p6-k1-s2-odd", [1, 3, 13, 17], 1, 2, 0),
        new Case("max_pool2d/k3-s2-pad1", [2, 4, 15, 10], 3, 2, 1),
        new Case("max_pool2d/k2-s2-truncates", [1, 2, 7, 9], 2, 2, 0),
        new Case("max_pool2d/k3-s1-pad1-tiny", [1, 1, 1, 2], 3, 1, 1),
        new Case("max_pool2d/empty-batch", [0, 3, 8, 8], 2, 2, 0),
        new BackwardCase("max_pool2d_backward/stem-k3-s2-pad1-odd", [2, 3, 15, 10], 3, 2, 1, ties: false),
        new BackwardCase("max_pool2d_backward/fpn-p6-k1-s2-odd", [1, 3, 13, 17], 1, 2, 0, ties: false),
        new BackwardCase("max_pool2d_backward/k3-s1-pad1-overlapping-ties", [1, 2, 9, 11], 3, 1, 1, ties: true),
        new BackwardCase("max_pool2d_backward/k2-s2-binary-ties", [1, 2, 7, 9], 2, 2, 0, ties: true),
        new BackwardCase("max_pool2d_backward/k3-s1-pad1-tiny", [1, 1, 1, 2], 3, 1, 1, ties: false),
        new BackwardCase("max_pool2d_backward/empty-batch", [0, 3, 8, 8], 3, 2, 1, ties: false),
    ];

    private sealed class Case(string name, int[] shape, int kernel, int stride, int padding) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 21, -5, 5, shape);
            return [RandomTensors.ToCpu(MaxPool.Forward2d(x, kernel, stride, padding))];
        }
    }

    // With ties, the inputs are 0 and 1 only, so most windows hold several equal maxima and only the
    // first may receive the gradient.
    private sealed class BackwardCase(string name, int[] shape, int kernel, int stride, int padding, bool ties) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = ties ? RandomTensors.Integers(device, 22, 0, 1, shape) : RandomTensors.Uniform(device, 22, -5, 5, shape);
            int oh = (shape[2] + 2 * padding - kernel) / stride + 1, ow = (shape[3] + 2 * padding - kernel) / stride + 1;
            using var gradOutput = RandomTensors.Normal(device, 23, 1, shape[0], shape[1], oh, ow);
            return [RandomTensors.ToCpu(MaxPool.Backward2d(gradOutput, x, kernel, stride, padding))];
        }
    }
}
