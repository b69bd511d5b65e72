using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;

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
        // The CPU's Winograd path, with the weight prepared as compiled models prepare it, on 400 tiles (enough for it to
        // be used): partial 4×4 tiles, 20 filters (not a multiple of 8).
        new Case("conv2d/winograd-3x3", [1, 16, 62, 98], [20, 16, 3, 3], true, new() { Padding = 1, FuseRelu = true }, winograd: true),
        new Case("conv2d/batch0", [0, 4, 6, 6], [4, 4, 3, 3], true, new() { Padding = 1 }),
        // The residual join in the epilogue: a bottleneck's conv3 plus shortcut, then ReLU; FPN's lateral plus top-down map.
        new Case("conv2d/1x1-residual-relu", [2, 8, 5, 7], [6, 8, 1, 1], true, new() { FuseRelu = true }, residual: true),
        new Case("conv2d/3x3-residual", [1, 5, 9, 11], [7, 5, 3, 3], true, new() { Padding = 1 }, residual: true),
        // The fp16 path: half weight, input rounded to half; through im2col, then the 1×1 path that reads the input as its columns.
        new Case("conv2d/fp16-3x3-bias-relu", [2, 5, 9, 11], [7, 5, 3, 3], true, new() { Padding = 1, FuseRelu = true }, half: true),
        new Case("conv2d/fp16-grouped-strided", [1, 6, 13, 10], [9, 2, 3, 3], false, new() { Stride = 2, Padding = 1, Groups = 3 }, half: true),
        new Case("conv2d/fp16-1x1-direct", [3, 8, 5, 7], [6, 8, 1, 1], true, Conv2dParams.Default, half: true),
        new Case("conv2d/fp16-1x1-residual-relu", [2, 8, 5, 7], [6, 8, 1, 1], true, new() { FuseRelu = true }, half: true, residual: true),
        // Budgets of one column row: the CPU blocks by output rows, CUDA too; then several images per block.
        new Case("conv2d/row-blocks", [2, 3, 11, 9], [5, 3, 3, 3], true, new() { Padding = 1, FuseRelu = true }, 3 * 9 * 9 * sizeof(float)),
        new Case("conv2d/image-blocks", [5, 3, 6, 5], [4, 3, 3, 3], true, new() { Padding = 1, Groups = 1 }, 2 * 27 * 30 * sizeof(float)),
        new BackwardCase("conv2d_backward/3x3-padded", [2, 5, 9, 11], [7, 5, 3, 3], new() { Padding = 1 }),
        new BackwardCase("conv2d_backward/grouped-strided-dilated", [2, 6, 13, 10], [9, 2, 3, 3], new() { Stride = 2, Padding = 2, Dilation = 2, Groups = 3 }),
        new BackwardCase("conv2d_backward/strided-asymmetric", [2, 3, 17, 12], [4, 3, 3, 5], new() { Stride = new(2, 3), Padding = new(1, 2) }),
        new BackwardCase("conv2d_backward/1x1-direct", [3, 8, 5, 7], [6, 8, 1, 1], Conv2dParams.Default),
        new BackwardCase("conv2d_backward/1x1-direct-grouped", [2, 8, 5, 7], [6, 4, 1, 1], new() { Groups = 2 }),
        new BackwardCase("conv2d_backward/1x1-stride2", [1, 4, 9, 9], [5, 4, 1, 1], new() { Stride = 2 }),
        new BackwardCase("conv2d_backward/batch0", [0, 4, 6, 6], [4, 4, 3, 3], new() { Padding = 1 }),
        // Blocks of one output row reach overlapping input rows, which col2im must add up; then several images per block.
        new BackwardCase("conv2d_backward/row-blocks", [2, 3, 11, 9], [5, 3, 3, 3], new() { Padding = 1 }, 3 * 9 * 9 * sizeof(float)),
        new BackwardCase("conv2d_backward/image-blocks", [5, 3, 6, 5], [4, 3, 3, 3], new() { Padding = 1 }, 2 * 27 * 30 * sizeof(float)),
    ];

    /// <summary>
    /// <paramref name="half"/>: the weight converted to float16, as a model compiled for fp16 holds it; <paramref name="residual"/>:
    /// a map of the output's shape added in the epilogue.
    /// </summary>
    private sealed class Case(string name, int[] input, int[] weight, bool bias, Conv2dParams p, long? budgetBytes = null, bool winograd = false,
        bool half = false, bool residual = false) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => half ? HalfPrecisionTolerance : base.Tolerance;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, weight);
            using var w16 = half ? Cast.To(w, DType.Float16) : null;
            using var b = bias ? RandomTensors.Uniform(device, 3, -1, 1, weight[0]) : null;
            using var prepared = winograd ? WinogradFilters.TryPrepare(w, p) : null;
            var g = Conv2d.Geometry(x, w, b, p);
            using var r = residual ? RandomTensors.Uniform(device, 5, -1, 1, g.N, g.K, g.OutH, g.OutW) : null;
            var y = budgetBytes is long budget ? Conv2d.Forward(x, w16 ?? w, b, p, budget) : Conv2d.Forward(x, w16 ?? w, b, p, prepared, residual: r);
            return [RandomTensors.ToCpu(y)];
        }
    }

    /// <summary>dx, dW and db of a seeded upstream gradient.</summary>
    private sealed class BackwardCase(string name, int[] input, int[] weight, Conv2dParams p, long? budgetBytes = null) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, weight);
            var g = Conv2d.Geometry(x, w, null, p);
            using var dy = RandomTensors.Uniform(device, 4, -1, 1, g.N, g.K, g.OutH, g.OutW);
            long budget = budgetBytes ?? (device.IsCpu ? Conv2d.CpuColumnBudgetBytes : Conv2d.CudaColumnBudgetBytes);
            return
            [
                RandomTensors.ToCpu(Conv2d.BackwardInput(dy, w, p, x.Shape, budget)),
                RandomTensors.ToCpu(Conv2d.BackwardWeight(x, dy, p, w.Shape, budget)),
                RandomTensors.ToCpu(Conv2d.BackwardBias(dy)),
            ];
        }
    }
}
