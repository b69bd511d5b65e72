using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Softmax;

internal static class SoftmaxChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("softmax/classes-81", [37, 81], 1f),
        new Case("softmax/long-row", [2, 3, 1000], 1f),
        new Case("softmax/single-column", [5, 1], 1f),
        new Case("softmax/large-logits-no-overflow", [4, 33], 80f),
        new Case("softmax/empty-rows", [0, 7], 1f),
        new Case("softmax/empty-columns", [3, 0], 1f),
    ];

    private sealed class Case(string name, int[] shape, float scale) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Normal(device, 41, scale, shape);
            return [RandomTensors.ToCpu(Softmax.LastDim(x))];
        }
    }
}
