using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Convolution;

internal static class ConvTranspose2dChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("conv_transpose2d/mask-head-2x2", [3, 8, 7, 7], [8, 6, 2, 2], true, new() { Stride = 2, FuseRelu = true }),
        new Case("conv_transpose2d/groups-output-padding", [2, 4, 5, 6], [4, 3, 3, 3], true,
            new() { Stride = 2, Padding = 1, OutputPadding = 1, Groups = 2 }),
        new Case("conv_transpose2d/dilated-asymmetric", [1, 3, 6, 4], [3, 2, 3, 2], false,
            new() { Stride = new(1, 3), Padding = new(2, 0), Dilation = new(2, 1) }),
        new Case("conv_transpose2d/batch0", [0, 4, 5, 5], [4, 4, 2, 2], true, new() { Stride = 2 }),
        // A budget of two input rows: output rows are processed in blocks that need overlapping input rows.
        new Case("conv_transpose2d/row-blocks", [2, 3, 9, 5], [3, 4, 4, 3], true,
            new() { Stride = 2, Padding = 1, FuseRelu = true }, 2 * 4 * 12 * 5 * sizeof(float)),
        new Case("conv_transpose2d/image-blocks", [5, 3, 4, 4], [3, 2, 2, 2], true, new() { Stride = 2 }, 2 * 2 * 4 * 16 * sizeof(float)),
        new BackwardCase("conv_transpose2d_backward/mask-head-2x2", [3, 8, 7, 7], [8, 6, 2, 2], new() { Stride = 2 }),
        new BackwardCase("conv_transpose2d_backward/groups-output-padding", [2, 4, 5, 6], [4, 3, 3, 3],
            new() { Stride = 2, Padding = 1, OutputPadding = 1, Groups = 2 }),
        new BackwardCase("conv_transpose2d_backward/dilated-asymmetric", [1, 3, 6, 4], [3, 2, 3, 2],
            new() { Stride = new(1, 3), Padding = new(2, 0), Dilation = new(2, 1) }),
        new BackwardCase("conv_transpose2d_backward/batch0", [0, 4, 5, 5], [4, 4, 2, 2], new() { Stride = 2 }),
    ];

    private sealed class Case(string name, int[] input, int[] weight, bool bias, ConvTranspose2dParams p, long? budgetBytes = null) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, weight);
            using var b = bias ? RandomTensors.Uniform(device, 3, -1, 1, weight[1] * p.Groups) : null;
            var y = budgetBytes is long budget ? ConvTranspose2d.Forward(x, w, b, p, budget) : ConvTranspose2d.Forward(x, w, b, p);
            return [RandomTensors.ToCpu(y)];
        }
    }

    /// <summary>dx, dW and db of a seeded upstream gradient.</summary>
    private sealed class BackwardCase(string name, int[] input, int[] weight, ConvTranspose2dParams p) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, weight);
            var g = ConvTranspose2d.Validate(x, w, null, p);
            using var dy = RandomTensors.Uniform(device, 4, -1, 1, g.N, g.Cout, g.OutH, g.OutW);
            return
            [
                RandomTensors.ToCpu(ConvTranspose2d.BackwardInput(dy, w, p, x.Shape)),
                RandomTensors.ToCpu(ConvTranspose2d.BackwardWeight(x, dy, p, w.Shape)),
                RandomTensors.ToCpu(ConvTranspose2d.BackwardBias(dy)),
            ];
        }
    }
}
