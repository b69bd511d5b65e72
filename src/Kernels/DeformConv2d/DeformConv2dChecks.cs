using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.DeformConv2d;

internal static class DeformConv2dChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        // Offsets of up to ±3 pixels push taps across every edge and past the one-pixel zero band.
        new Case("deform_conv2d/3x3-modulated-bias-relu", [2, 4, 9, 11], [6, 4, 3, 3], true, true, 3, new() { Convolution = new() { Padding = 1, FuseRelu = true } }),
        new Case("deform_conv2d/v1-no-mask", [1, 3, 8, 7], [5, 3, 3, 3], false, false, 2, new() { Convolution = new() { Padding = 1 } }),
        new Case("deform_conv2d/strided-dilated-groups", [2, 8, 13, 10], [6, 4, 3, 3], true, true, 2, new() { Convolution = new() { Stride = 2, Padding = 2, Dilation = 2, Groups = 2 }, OffsetGroups = 4 }),
        new Case("deform_conv2d/integer-offsets", [1, 2, 6, 6], [3, 2, 3, 3], true, true, 0, new() { Convolution = new() { Padding = 1 } }),
        new Case("deform_conv2d/batch0", [0, 4, 6, 6], [4, 4, 3, 3], true, true, 1, new() { Convolution = new() { Padding = 1 } }),
        // A budget of one output row: several column blocks per image.
        new Case("deform_conv2d/row-blocks", [2, 3, 11, 9], [5, 3, 3, 3], true, true, 2, new() { Convolution = new() { Padding = 1 } }, 3 * 9 * 9 * sizeof(float)),
    ];

    /// <param name="spread">Offsets are uniform in ±spread; 0 gives whole-pixel offsets in ±2, where bilinear weights are exactly 0 or 1.</param>
    private sealed class Case(string name, int[] input, int[] weight, bool bias, bool modulated, float spread, DeformConv2dParams p, long? budgetBytes = null) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            var c = p.Convolution;
            int outH = (input[2] + 2 * c.Padding.H - c.Dilation.H * (weight[2] - 1) - 1) / c.Stride.H + 1;
            int outW = (input[3] + 2 * c.Padding.W - c.Dilation.W * (weight[3] - 1) - 1) / c.Stride.W + 1;
            int taps = p.OffsetGroups * weight[2] * weight[3];
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, weight);
            using var b = bias ? RandomTensors.Uniform(device, 3, -1, 1, weight[0]) : null;
            using var offset = spread > 0 ? RandomTensors.Uniform(device, 4, -spread, spread, input[0], 2 * taps, outH, outW) : WholePixels(device, input[0], 2 * taps, outH, outW);
            using var mask = modulated ? RandomTensors.Uniform(device, 5, 0, 1, input[0], taps, outH, outW) : null;
            var y = budgetBytes is long budget ? DeformConv2d.Forward(x, offset, mask, w, b, p, budget) : DeformConv2d.Forward(x, offset, mask, w, b, p);
            return [RandomTensors.ToCpu(y)];
        }

        private static Tensor WholePixels(Device device, params int[] shape)
        {
            var rng = new Random(4);
            var values = new float[shape.Aggregate(1, (a, d) => a * d)];
            for (int i = 0; i < values.Length; i++) values[i] = rng.Next(-2, 3);
            using var cpu = Tensor.FromArray(values, shape);
            return cpu.To(device);
        }
    }
}
