using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Nms;

/// <summary>Batched NMS as the RPN runs it (five level-classes, IoU 0.7) and as the box head does (80 classes, 0.5).</summary>
internal sealed class NmsBenchmark : KernelBenchmark<NmsBenchmark.Size>
{
    public sealed record Size(string Name, int Boxes, int Classes, float Threshold);

    public override string Name => "nms";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("rpn", 300, 5, 0.7f)],
        BenchmarkPreset.Paper => [new("rpn", 1000, 5, 0.7f), new("rpn", 10000, 5, 0.7f), new("box-head", 10000, 80, 0.5f)],
        BenchmarkPreset.Large => [new("rpn", 40000, 5, 0.7f)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.Boxes}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        // Every pair's IoU once (about 12 operations), as the bitmask pass computes it.
        long pairs = (long)s.Boxes * (s.Boxes - 1) / 2;
        return (pairs * 12, s.Boxes * (4 * sizeof(float) + sizeof(float) + sizeof(long) + sizeof(long)));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var boxes = new Tensor[copies];
        var scores = new Tensor[copies];
        var classes = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            var (b, sc, c) = NmsChecks.RandomDetections(i + 1, s.Boxes, s.Classes, 0);
            boxes[i] = RandomTensors.OnDevice(Tensor.FromArray(b, s.Boxes, 4), device);
            scores[i] = RandomTensors.OnDevice(Tensor.FromArray(sc, s.Boxes), device);
            classes[i] = RandomTensors.OnDevice(Tensor.FromArray(c, s.Boxes), device);
        }
        return new BenchmarkCase(copies, i =>
        {
            // The padded form: what a pipeline without host syncs calls.
            var (keep, count) = Nms.BatchedPadded(boxes[i], scores[i], classes[i], s.Threshold);
            keep.Dispose();
            count.Dispose();
        }, [.. boxes, .. scores, .. classes]);
    }
}
