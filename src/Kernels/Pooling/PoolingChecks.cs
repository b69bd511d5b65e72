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
}
