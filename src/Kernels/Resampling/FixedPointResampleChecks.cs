using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

internal static class FixedPointResampleChecks
{
    // Weights in [-2^19, 2^20] over at most 6 taps keep 255 · Σ|w| inside an int; with 14 fraction bits most sums
    // clip to 255, with 22 the negative ones clip to 0.
    private const int WeightLow = -(1 << 19), WeightHigh = 1 << 20;

    public static IEnumerable<KernelCheck> All =>
    [
        new Case("resample_fixed_point/horizontal-up-rgb", [7, 9, 3], horizontal: true, 20, taps: 3, fractionBits: 22),
        new Case("resample_fixed_point/horizontal-down-gray-clipped", [5, 31, 1], horizontal: true, 8, taps: 6, fractionBits: 14),
        new Case("resample_fixed_point/vertical-up-gray", [6, 5, 1], horizontal: false, 13, taps: 3, fractionBits: 22),
        new Case("resample_fixed_point/vertical-down-rgb-clipped", [29, 7, 3], horizontal: false, 6, taps: 6, fractionBits: 14),
        new Case("resample_fixed_point/horizontal-no-rows", [0, 5, 3], horizontal: true, 4, taps: 3, fractionBits: 22),
    ];

    /// <summary>
    /// Valid taps of no particular filter, packed as <see cref="FixedPointResample"/> takes them: per output, 1 to
    /// <paramref name="k"/> taps anywhere inside the input, with weights drawn from [low, high].
    /// </summary>
    public static int[] RandomTaps(int seed, int inSize, int outSize, int k, int low = WeightLow, int high = WeightHigh)
    {
        var rng = new Random(seed);
        var taps = new int[outSize * (2 + k)];
        for (int o = 0; o < outSize; o++)
        {
            int count = rng.Next(1, Math.Min(k, inSize) + 1);
            taps[o] = rng.Next(0, inSize - count + 1);
            taps[outSize + o] = count;
            for (int t = 0; t < count; t++) taps[2 * outSize + o * k + t] = rng.Next(low, high + 1);
        }
        return taps;
    }

    private sealed class Case(string name, int[] shape, bool horizontal, int outSize, int taps, int fractionBits) : KernelCheck
    {
        public override string Name => name;

        // Integer arithmetic on both sides: any difference is a bug.
        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var pixels = RandomTensors.Bytes(device, 95, shape);
            var packed = RandomTaps(96, horizontal ? shape[1] : shape[0], outSize, taps);
            using var filter = RandomTensors.OnDevice(Tensor.FromArray(packed, packed.Length), device);
            var y = horizontal
                ? FixedPointResample.Horizontal(pixels, filter, outSize, fractionBits)
                : FixedPointResample.Vertical(pixels, filter, outSize, fractionBits);
            return [RandomTensors.ToCpu(y)];
        }
    }
}
