using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Conversion;

namespace NativeSeg.Kernels.Dense;

internal static class LinearChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("linear/box-head-relu", [7, 33], 19, true, true),
        new Case("linear/3d-input-no-bias", [2, 3, 10], 5, false, false),
        new Case("linear/empty-batch", [0, 8], 4, true, true),
        new Case("linear/zero-features", [3, 0], 4, true, false),
        new Case("linear/fp16-box-head-relu", [7, 33], 19, true, true, half: true),
        new Case("linear/fp16-3d-input-no-bias", [2, 3, 10], 5, false, false, half: true),
        new BackwardCase("linear_backward/box-head", [7, 33], 19),
        new BackwardCase("linear_backward/3d-input", [2, 3, 10], 5),
        new BackwardCase("linear_backward/empty-batch", [0, 8], 4),
        new BackwardCase("linear_backward/zero-features", [3, 0], 4),
    ];

    /// <summary><paramref name="half"/>: the weight converted to float16, as a model compiled for fp16 holds it.</summary>
    private sealed class Case(string name, int[] input, int outFeatures, bool bias, bool relu, bool half = false) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => half ? HalfPrecisionTolerance : base.Tolerance;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, outFeatures, input[^1]);
            using var w16 = half ? Cast.To(w, DType.Float16) : null;
            using var b = bias ? RandomTensors.Uniform(device, 3, -1, 1, outFeatures) : null;
            return [RandomTensors.ToCpu(Linear.Forward(x, w16 ?? w, b, relu))];
        }
    }

    /// <summary>dx, dW and db of a seeded upstream gradient.</summary>
    private sealed class BackwardCase(string name, int[] input, int outFeatures) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, outFeatures, input[^1]);
            using var dy = RandomTensors.Uniform(device, 4, -1, 1, [.. input[..^1], outFeatures]);
            return
            [
                RandomTensors.ToCpu(Linear.BackwardInput(dy, w)),
                RandomTensors.ToCpu(Linear.BackwardWeight(x, dy)),
                RandomTensors.ToCpu(Linear.BackwardBias(dy)),
            ];
        }
    }
}
