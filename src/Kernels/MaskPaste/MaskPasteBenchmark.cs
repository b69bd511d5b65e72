using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskPaste;

/// <summary>Pasting the final detections' 28×28 masks into an 800×1216 image, both methods, each mask over its region only.</summary>
internal sealed class MaskPasteBenchmark : KernelBenchmark<MaskPasteBenchmark.Size>
{
    public sealed record Size(int Masks, int Height, int Width, PasteMethod Method);

    public override string Name => "mask_paste";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(10, 120, 160, PasteMethod.Detectron2), new(10, 120, 160, PasteMethod.Torchvision)],
        BenchmarkPreset.Paper => [new(100, 800, 1216, PasteMethod.Detectron2), new(100, 800, 1216, PasteMethod.Torchvision)],
        BenchmarkPreset.Large => [new(100, 2048, 2048, PasteMethod.Detectron2)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Method.ToString().ToLowerInvariant()} {s.Masks}x{s.Height}x{s.Width}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        // Every output byte is a region pixel that interpolates four taps; the first copy's boxes stand for all.
        using var boxes = Tensor.FromArray(MaskPasteChecks.RandomBoxes(1, s.Masks, s.Height, s.Width), s.Masks, 4);
        long pixels = MaskPaste.Regions(boxes, 28, s.Height, s.Width, s.Method).Sum(r => r.Area);
        return (pixels * 8, s.Masks * (28 * 28 + 4) * sizeof(float) + pixels);
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies) =>
        Case(device, copies, s.Masks, s.Height, s.Width, (masks, boxes) => MaskPaste.Paste(masks, boxes, s.Height, s.Width, s.Method));

    /// <summary>Per copy random 28×28 masks and boxes inside the image (seeded by copy), run through <paramref name="paste"/>; the probabilities benchmark shares it.</summary>
    internal static BenchmarkCase Case(Device device, int copies, int count, int height, int width, Func<Tensor, Tensor, IDisposable> paste)
    {
        var masks = new Tensor[copies];
        var boxes = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            masks[i] = RandomTensors.Uniform(device, i + 1, 0, 1, count, 28, 28);
            boxes[i] = RandomTensors.OnDevice(Tensor.FromArray(MaskPasteChecks.RandomBoxes(i + 1, count, height, width), count, 4), device);
        }
        return new BenchmarkCase(copies, i => paste(masks[i], boxes[i]).Dispose(), [.. masks, .. boxes]);
    }
}
