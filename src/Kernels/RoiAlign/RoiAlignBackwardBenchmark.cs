using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.RoiAlign;

/// <summary>RoIAlign's backward at the forward benchmark's sizes: zeroing the level gradients and the atomic scatter.</summary>
internal sealed class RoiAlignBackwardBenchmark : KernelBenchmark<RoiAlignBenchmark.Size>
{
    private static readonly float[] Scales = [1f / 4, 1f / 8, 1f / 16, 1f / 32];

    public override string Name => "roi_align_backward";

    protected override IEnumerable<RoiAlignBenchmark.Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("box-d2", 50, 16, 128, 160, 7, 0, true)],
        BenchmarkPreset.Paper => [new("box-d2", 1000, 256, 800, 1333, 7, 0, true), new("mask-tv", 1000, 256, 800, 1333, 14, 2, false)],
        BenchmarkPreset.Large => [new("box-d2-b2", 4000, 256, 800, 1333, 7, 0, true)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(RoiAlignBenchmark.Size s) => $"{s.Name} {s.Rois}x{s.Channels}x{s.Output}x{s.Output}";

    protected override (long Flops, long Bytes) Cost(RoiAlignBenchmark.Size s)
    {
        // About four samples per bin of four taps, a multiply and an atomic add each; the maps are written twice (zeroed, then scattered).
        long outputs = (long)s.Rois * s.Channels * s.Output * s.Output;
        long features = s.Levels.Sum(l => (long)s.Channels * l.H * l.W);
        return (outputs * 4 * 4 * 2, (2 * features + s.Rois * 6L + outputs) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, RoiAlignBenchmark.Size s, int copies)
    {
        var resources = new List<IDisposable>();
        var grads = new Tensor[copies];
        var rois = new Tensor[copies];
        var levels = new Tensor[copies];
        Shape[] shapes = [.. s.Levels.Select(l => new Shape(1, s.Channels, l.H, l.W))];
        for (int i = 0; i < copies; i++)
        {
            grads[i] = RandomTensors.Uniform(device, i + 1, -1, 1, s.Rois, s.Channels, s.Output, s.Output);
            using var cpuRois = Tensor.FromArray(RoiAlignBenchmark.RandomRois(100 + i, s.Rois, s.ImageHeight, s.ImageWidth), s.Rois, 5);
            rois[i] = cpuRois.To(device);
            levels[i] = RoiAlign.AssignLevels(rois[i], s.Aligned ? LevelRule.Detectron2 : LevelRule.Torchvision);
            resources.AddRange([grads[i], rois[i], levels[i]]);
        }
        var options = new RoiAlignOptions(s.Output, s.Output, s.Sampling, s.Aligned);
        return new BenchmarkCase(copies, i =>
        {
            foreach (var g in RoiAlign.Backward(grads[i], shapes, Scales, rois[i], levels[i], options)) g.Dispose();
        }, resources);
    }
}
