using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskRle;

/// <summary>
/// COCO RLE of a batch's final masks on the device, as the device pipelines run it: the run counts of 100 pasted-looking
/// whole-image bitmasks of an 800×1067 image, then their runs (the total between the two steps known in advance, as
/// the host knows it from the first copy back).
/// </summary>
internal sealed class MaskRleBenchmark : KernelBenchmark<MaskRleBenchmark.Size>
{
    public sealed record Size(int Masks, int Height, int Width);

    public override string Name => "mask_rle";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(10, 120, 160)],
        BenchmarkPreset.Paper => [new(100, 800, 1067)],
        BenchmarkPreset.Large => [new(100, 2048, 2048)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Masks}x{s.Height}x{s.Width}";

    // Each word read twice (counting, writing), popcounts and shifts per word; the runs written are small beside it.
    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long words = s.Masks * MaskPaste.MaskPaste.BitWords(s.Height, s.Width);
        return (words * 2 * 4, words * 2 * sizeof(int));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var bits = new Tensor[copies];
        var totals = new int[copies];
        var count = RandomTensors.OnDevice(Tensor.FromArray(new long[] { s.Masks }, 1), device);
        for (int i = 0; i < copies; i++)
        {
            var host = MaskRleMasks.Bits(MaskRleMasks.Blobs(i + 1, s.Masks, s.Height, s.Width), 0, s.Height, s.Width, seed: i + 1);
            using (var hostCount = Tensor.FromArray(new long[] { s.Masks }, 1))
            using (var runs = MaskRle.Layout(host, hostCount, s.Height, s.Width))
                totals[i] = runs.Runs.ToArray<int>().Sum();
            bits[i] = RandomTensors.OnDevice(host, device);
        }
        return new BenchmarkCase(copies, i =>
        {
            using var layout = MaskRle.Layout(bits[i], count, s.Height, s.Width);
            MaskRle.Encode(bits[i], count, layout, s.Height, s.Width, totals[i]).Dispose();
        }, [.. bits, count]);
    }
}
