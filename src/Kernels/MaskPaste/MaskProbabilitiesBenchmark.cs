using NativeSeg.Engine.Devices;

namespace NativeSeg.Kernels.MaskPaste;

/// <summary>
/// torchvision's paste_masks_in_image output (float probabilities, no threshold) for the final
/// detections' 28×28 masks in an 800×1216 image: four bytes written per pixel instead of one.
/// </summary>
internal sealed class MaskProbabilitiesBenchmark : KernelBenchmark<MaskProbabilitiesBenchmark.Size>
{
    public sealed record Size(int Masks, int Height, int Width);

    public override string Name => "mask_paste_prob";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(10, 120, 160)],
        BenchmarkPreset.Paper => [new(100, 800, 1216)],
        BenchmarkPreset.Large => [new(100, 2048, 2048)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"torchvision {s.Masks}x{s.Height}x{s.Width}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long pixels = (long)s.Masks * s.Height * s.Width;
        return (pixels / 10 * 8, s.Masks * (28 * 28 + 4) * sizeof(float) + pixels * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies) =>
        MaskPasteBenchmark.Case(device, copies, s.Masks, s.Height, s.Width,
            (masks, boxes) => MaskPaste.PasteProbabilities(masks, boxes, s.Height, s.Width));
}
