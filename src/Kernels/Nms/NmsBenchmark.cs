using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Nms;

/// <summary>
/// Batched NMS as the RPN runs it (five level-classes, IoU 0.7, one segment per image) and as the box head does
/// (one segment per class of 1000 proposals, IoU 0.5: 81 segments an image, 324 for a batch of four).
/// </summary>
internal sealed class NmsBenchmark : KernelBenchmark<NmsBenchmark.Size>
{
    public sealed record Size(string Name, int Boxes, int Classes, float Threshold, int Segments = 1);

    public override string Name => "nms";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("rpn", 300, 5, 0.7f), new("box-head segments", 100, 1, 0.5f, 81)],
        BenchmarkPreset.Paper => [new("rpn", 1000, 5, 0.7f), new("rpn", 10000, 5, 0.7f), new("box-head", 10000, 80, 0.5f),
            new("box-head segments", 1000, 1, 0.5f, 81), new("box-head segments", 1000, 1, 0.5f, 324)],
        BenchmarkPreset.Large => [new("rpn", 40000, 5, 0.7f), new("rpn segments", 4700, 5, 0.7f, 8)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => s.Segments == 1 ? $"{s.Name} {s.Boxes}" : $"{s.Name} {s.Segments}x{s.Boxes}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        // Every pair's IoU once (about 12 operations), as the bitmask pass computes it.
        long pairs = (long)s.Segments * s.Boxes * (s.Boxes - 1) / 2;
        return (pairs * 12, (long)s.Segments * s.Boxes * (4 * sizeof(float) + sizeof(float) + sizeof(long) + sizeof(long)));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var boxes = new Tensor[copies];
        var scores = new Tensor[copies];
        var classes = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            // One draw spread over the segments: each holds boxes of its own clusters.
            var (b, sc, c) = NmsChecks.RandomDetections(i + 1, s.Segments * s.Boxes, s.Classes, 0);
            boxes[i] = RandomTensors.OnDevice(Tensor.FromArray(b, s.Segments, s.Boxes, 4), device);
            scores[i] = RandomTensors.OnDevice(Tensor.FromArray(sc, s.Segments, s.Boxes), device);
            classes[i] = RandomTensors.OnDevice(Tensor.FromArray(c, s.Segments, s.Boxes), device);
        }
        return new BenchmarkCase(copies, i =>
        {
            // The padded, segmented form: what a pipeline without host syncs calls.
            var (keep, count) = Nms.Segmented(boxes[i], scores[i], classes[i], s.Threshold);
            keep.Dispose();
            count.Dispose();
        }, [.. boxes, .. scores, .. classes]);
    }
}
