using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

/// <summary>
/// An 8-bit RGB image resampled along the width, then the height, with k taps per output on each axis, as detectron2's
/// Pillow resize does it: a 480×640 COCO image up to 800×1067 (3 taps), a 1333×2000 photo down to 800×1200 (5).
/// </summary>
internal sealed class FixedPointResampleBenchmark : KernelBenchmark<FixedPointResampleBenchmark.Size>
{
    public sealed record Size(string Name, int H, int W, int OutH, int OutW, int Taps);

    private const int FractionBits = 22;

    public override string Name => "resample_fixed_point";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("image-up", 60, 80, 100, 133, 3)],
        BenchmarkPreset.Paper => [new("image-up", 480, 640, 800, 1067, 3), new("image-down", 1333, 2000, 800, 1200, 5)],
        BenchmarkPreset.Large => [new("image-down", 2160, 3840, 800, 1422, 7)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.H}x{s.W}x3-{s.OutH}x{s.OutW}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long intermediate = 3L * s.H * s.OutW, output = 3L * s.OutH * s.OutW;
        // A multiply and an add per tap; the intermediate image is written once and read once.
        long taps = (long)(s.OutW + s.OutH) * (2 + s.Taps) * sizeof(int);
        return (2L * s.Taps * (intermediate + output), 3L * s.H * s.W + 2 * intermediate + output + taps);
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var tensors = new Tensor[copies + 2];
        for (int i = 0; i < copies; i++) tensors[i] = RandomTensors.Bytes(device, i + 1, s.H, s.W, 3);
        var horizontal = FixedPointResampleChecks.RandomTaps(copies + 1, s.W, s.OutW, s.Taps);
        var vertical = FixedPointResampleChecks.RandomTaps(copies + 2, s.H, s.OutH, s.Taps);
        var rows = tensors[copies] = RandomTensors.OnDevice(Tensor.FromArray(horizontal, horizontal.Length), device);
        var columns = tensors[copies + 1] = RandomTensors.OnDevice(Tensor.FromArray(vertical, vertical.Length), device);
        return new BenchmarkCase(copies, i =>
        {
            using var wide = FixedPointResample.Horizontal(tensors[i], rows, s.OutW, FractionBits);
            FixedPointResample.Vertical(wide, columns, s.OutH, FractionBits).Dispose();
        }, tensors);
    }
}
