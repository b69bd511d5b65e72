using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskRle;

internal static class MaskRleChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("mask_rle/patterns-odd-size", 37, 29, MaskRleMasks.Patterns(37, 29), dead: 2),
        new Case("mask_rle/blobs-many-chunks", 97, 83, MaskRleMasks.Blobs(1, 6, 97, 83), dead: 3),
        new Case("mask_rle/one-pixel", 1, 1, MaskRleMasks.Patterns(1, 1), dead: 0),
        new Case("mask_rle/one-row", 1, 70, MaskRleMasks.Patterns(1, 70), dead: 1),
        new Case("mask_rle/none-live", 20, 30, [], dead: 3),
        new Case("mask_rle/no-rows", 20, 30, [], dead: 0),
    ];

    /// <summary>
    /// The masks' run counts and runs, with <paramref name="dead"/> more rows of random words after them and the live
    /// count on the device; every word's bits past the last pixel are random too, so neither may be read.
    /// </summary>
    private sealed class Case(string name, int height, int width, IReadOnlyList<byte[]> masks, int dead) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var bits = RandomTensors.OnDevice(MaskRleMasks.Bits(masks, dead, height, width, seed: height * width), device);
            using var count = RandomTensors.OnDevice(Tensor.FromArray(new long[] { masks.Count }, 1), device);
            using var layout = MaskRle.Layout(bits, count, height, width);
            var runs = layout.Runs.ToArray<int>();
            using var lengths = MaskRle.Encode(bits, count, layout, height, width, runs.Sum());
            return [Tensor.FromArray(runs, runs.Length), lengths.To(Device.Cpu)];
        }
    }
}
