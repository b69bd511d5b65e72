using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoxIou;

/// <summary>
/// Pairwise IoU as training matches it: the GT boxes of an image against every anchor of an 800×1333 input
/// (267,069 on P2–P6), and against 2000 proposals plus the GT.
/// </summary>
internal sealed class BoxIouBenchmark : KernelBenchmark<BoxIouBenchmark.Size>
{
    public sealed record Size(string Name, int Truths, int Boxes);

    public override string Name => "box_iou";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("anchors", 7, 3000), new("proposals", 7, 200)],
        BenchmarkPreset.Paper => [new("anchors", 20, 267069), new("proposals", 20, 2020)],
        BenchmarkPreset.Large => [new("anchors", 100, 1068276)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.Truths}x{s.Boxes}";

    // About 12 operations per pair (intersection, two areas, union, division); the boxes are read, the matrix written.
    protected override (long Flops, long Bytes) Cost(Size s) =>
        (12L * s.Truths * s.Boxes, ((long)s.Truths * s.Boxes + 4L * (s.Truths + s.Boxes)) * sizeof(float));

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var truths = new Tensor[copies];
        var boxes = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            truths[i] = RandomTensors.OnDevice(Tensor.FromArray(BoxCoder.BoxCoderBenchmark.RandomBoxes(10 * i + 1, s.Truths), s.Truths, 4), device);
            boxes[i] = RandomTensors.OnDevice(Tensor.FromArray(BoxCoder.BoxCoderBenchmark.RandomBoxes(10 * i + 2, s.Boxes), s.Boxes, 4), device);
        }
        return new BenchmarkCase(copies, i => BoxIou.Pairwise(truths[i], boxes[i]).Dispose(), [.. truths, .. boxes]);
    }
}
