using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.RoiAlign;

/// <summary>FPN level assignment of the box head's 1000 RoIs (both rules), the step before multi-level RoIAlign.</summary>
internal sealed class RoiLevelsBenchmark : KernelBenchmark<RoiLevelsBenchmark.Size>
{
    public sealed record Size(int Rois, LevelRule Rule);

    public override string Name => "roi_levels";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(50, LevelRule.Detectron2)],
        BenchmarkPreset.Paper => [new(1000, LevelRule.Detectron2), new(1000, LevelRule.Torchvision)],
        BenchmarkPreset.Large => [new(100000, LevelRule.Detectron2)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Rule.ToString().ToLowerInvariant()} {s.Rois}";

    // A square root, a log and a handful of operations per RoI.
    protected override (long Flops, long Bytes) Cost(Size s) => (10L * s.Rois, s.Rois * (5L * sizeof(float) + sizeof(int)));

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var rois = new Tensor[copies];
        for (int i = 0; i < copies; i++)
            rois[i] = RandomTensors.OnDevice(Tensor.FromArray(RoiAlignBenchmark.RandomRois(100 + i, s.Rois, 800, 1333), s.Rois, 5), device);
        return new BenchmarkCase(copies, i => RoiAlign.AssignLevels(rois[i], s.Rule).Dispose(), rois);
    }
}
