using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Dense;

internal static class LinearChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("linear/box-head-relu", [7, 33], 19, true, true),
        new Case("linear/3d-input-no-bias", [2, 3, 10], 5, false, false),
        new Case("linear/empty-batch", [0, 8], 4, true, true),
        new Case("linear/zero-features", [3, 0], 4, true, false),
    ];

    private sealed class Case(string name, int[] input, int outFeatures, bool bias, bool relu) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.Uniform(device, 1, -1, 1, input);
            using var w = RandomTensors.Uniform(device, 2, -1, 1, outFeatures, input[^1]);
            using var b = bias ? RandomTensors.Uniform(device, 3, -1, 1, outFeatures) : null;
            return [RandomTensors.ToCpu(Linear.Forward(x, w, b, relu))];
        }
    }
}
