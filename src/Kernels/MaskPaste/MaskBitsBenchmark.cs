using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskPaste;

/// <summary>
/// The device pipelines' paste: the final detections' 28×28 masks as whole-image column-major bitmasks of a
/// 480×640 COCO image, all of them counted live on the device, pasted the torchvision or the detectron2 way.
/// </summary>
internal sealed class MaskBitsBenchmark : KernelBenchmark<MaskBitsBenchmark.Size>
{
    public sealed record Size(int Masks, int Height, int Width, PasteMethod Method);

    public override string Name => "mask_paste_bits";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(10, 120, 160, PasteMethod.Torchvision), new(10, 120, 160, PasteMethod.Detectron2)],
        BenchmarkPreset.Paper => [new(100, 480, 640, PasteMethod.Torchvision), new(100, 480, 640, PasteMethod.Detectron2)],
        BenchmarkPreset.Large => [new(100, 2048, 2048, PasteMethod.Torchvision)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Method.ToString().ToLowerInvariant()} {s.Masks}x{s.Height}x{s.Width}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long pixels = (long)s.Masks * s.Height * s.Width;
        return (pixels / 10 * 8, s.Masks * (28 * 28 + 4) * sizeof(float) + pixels / 8);
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var count = RandomTensors.OnDevice(Tensor.FromArray(new long[] { s.Masks }, 1), device);
        var inner = MaskPasteBenchmark.Case(device, copies, s.Masks, s.Height, s.Width,
            (masks, boxes) => MaskPaste.PasteBits(masks, boxes, count, s.Height, s.Width, s.Method));
        return new BenchmarkCase(copies, inner.Run, [inner, count]);
    }
}
