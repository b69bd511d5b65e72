using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Resampling;

/// <summary>
/// The FPN top-down path's nearest 2× upsampling (P3 to P2 size) and the bilinear resize of a 480×640
/// input image to the 800-pixel short side, both at F.interpolate semantics.
/// </summary>
internal sealed class ResizeBenchmark : KernelBenchmark<ResizeBenchmark.Size>
{
    public sealed record Size(string Name, bool Bilinear, int[] Shape, int OutH, int OutW);

    public override string Name => "resize";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("fpn-nearest-2x", false, [1, 16, 15, 21], 30, 42), new("image-bilinear", true, [1, 3, 60, 80], 100, 133)],
        BenchmarkPreset.Paper => [new("fpn-nearest-2x", false, [1, 256, 100, 168], 200, 336), new("image-bilinear", true, [1, 3, 480, 640], 800, 1067)],
        BenchmarkPreset.Large => [new("fpn-nearest-2x", false, [2, 256, 200, 336], 400, 672)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {string.Join("x", s.Shape)}-{s.OutH}x{s.OutW}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long outputs = (long)s.Shape[0] * s.Shape[1] * s.OutH * s.OutW;
        // Bilinear: four taps, a multiply-add each, per output.
        return (s.Bilinear ? 8 * outputs : 0, (new Shape(s.Shape).Numel + outputs) * sizeof(float));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var xs = new Tensor[copies];
        for (int i = 0; i < copies; i++) xs[i] = RandomTensors.Uniform(device, i + 1, -1, 1, s.Shape);
        Action<int> run = s.Bilinear
            ? i => Resize.Bilinear(xs[i], s.OutH, s.OutW, alignCorners: false).Dispose()
            : i => Resize.Nearest(xs[i], s.OutH, s.OutW).Dispose();
        return new BenchmarkCase(copies, run, xs);
    }
}
