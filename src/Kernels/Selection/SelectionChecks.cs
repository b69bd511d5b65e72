using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Selection;

internal static class SelectionChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("topk/rpn-level-k1000", [1, 60000], 1000, levels: 0, specials: false),
        new Case("topk/many-ties", [4, 500], 100, levels: 6, specials: false),
        new Case("topk/all-equal", [2, 300], 77, levels: 1, specials: false),
        new Case("topk/k-equals-n-odd", [3, 37], 37, levels: 0, specials: false),
        new Case("topk/k1-many-rows", [129, 17], 1, levels: 0, specials: false),
        new Case("topk/nan-inf-signed-zero", [2, 64], 20, levels: 3, specials: true),
        new Case("topk/k0", [3, 9], 0, levels: 0, specials: false),
        new Case("topk/empty-rows", [0, 9], 4, levels: 0, specials: false),
    ];

    /// <summary>levels > 0 quantizes the values to that many distinct levels to force ties.</summary>
    private sealed class Case(string name, int[] shape, int k, int levels, bool specials) : KernelCheck
    {
        public override string Name => name;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var x = RandomTensors.OnDevice(Inputs(), device);
            var (values, indices) = TopK.LastDim(x, k);
            return [RandomTensors.ToCpu(values), RandomTensors.ToCpu(indices)];
        }

        private Tensor Inputs()
        {
            using var uniform = RandomTensors.Uniform(Device.Cpu, 61, -10, 10, shape);
            var data = uniform.AsSpan<float>().ToArray();
            if (levels > 0)
            {
                for (int i = 0; i < data.Length; i++) data[i] = MathF.Floor((data[i] + 10) / 20 * levels) - levels / 2;
            }
            if (specials)
            {
                float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f];
                for (int i = 0; i < data.Length; i += 7) data[i] = specials[i / 7 % specials.Length];
            }
            return Tensor.FromArray(data, shape);
        }
    }
}
