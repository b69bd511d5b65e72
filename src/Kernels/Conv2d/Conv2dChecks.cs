using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Convolution;

internal static class Conv2dChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("conv2d/3x3-bias-relu", [2, 5, 9, 11], [7, 5, 3, 3], true, new() { Padding = 1, FuseRelu = true }),
        new Case("conv2d/grouped-dilated", [1, 6, 13, 10], [9, 2, 3, 3], true, new() { Padding = 2, Dilation = 2, Groups = 3 }),
        new Case("conv2d/strided-asymmetric", [2, 3, 17, 12], [4, 3, 3, 5], false, new() { Stride = new(2, 3), Padding = new(1, 2) }),
        new Case("conv2d/1x1-direct", [3, 8, 5, 7], [6, 8, 1, 1], true, Conv2dParams.Default),
        new Case("conv2d/1x1-stride2", [1, 4, 9, 9], [5, 4, 1, 1], true, new() { Stride = 2 }),
        new Case("conv2d/no-padding-edge", [1, 2, 3, 3], [3, 2, 3, 3], true, new() { FuseRelu = true }),
        new Case("conv2d/batch0", [0, 4, 6, 6], [4, 4, 3, 3], true, new() { Padding = 1 }),
        // Budgets of one column row: the CPU blocks by output rows, CUDA too; then several images per block.
        new Case("conv2d/row-blocks", [2, 3, 11, 9], [5, 3, 3, 3], true, new() { Padding = 1, FuseRelu = true }, 3 * 9 * 9 * sizeof(float)),
        new Case("conv2d/image-blocks", [5, 3, 6, 5], [4, 3, 3, 3], true, new() { Padding = 1, Groups = 1 }, 2 * 27 * 30 * sizeof(float)),
    ];

    private sealed class Case(string name, int[] input, int[] weight, bool bias, Conv2dParams p, long? budgetBytes = null) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, weight);
            using var b = bias ? RandomTensors.Uniform(device, 3, -1, 1, weight[0]) : null;
            var y = budgetBytes is long budget ? Conv2d.Forward(x, w, b, p, budget) : Conv2d.Forward(x, w, b, p);
            return [RandomTensors.ToCpu(y)];
        }
    }
}
