using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Pixels;

/// <summary>
/// The three channels of an uploaded 8-bit image normalised into a padded batch slot: an 800×1333 image (what
/// detectron2's host resize gives) into 800×1344, or the full-size 480×640 COCO image torchvision normalises before resizing.
/// </summary>
internal sealed class NormalisePixelsBenchmark : KernelBenchmark<NormalisePixelsBenchmark.Size>
{
    public sealed record Size(string Name, int H, int W, int PaddedH, int PaddedW);

    private static readonly PixelNormalisation Normalisation = new(255f, 1f, 0.485f, 0.229f);

    public override string Name => "normalise_pixels";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new("into-batch", 120, 160, 128, 160)],
        BenchmarkPreset.Paper => [new("into-batch", 800, 1333, 800, 1344), new("full-size", 480, 640, 480, 640)],
        BenchmarkPreset.Large => [new("into-batch", 1333, 2000, 1344, 2016)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Name} {s.H}x{s.W}x3-{s.PaddedH}x{s.PaddedW}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        long values = 3L * s.H * s.W;
        // Divide, multiply, subtract, divide per value; a byte read and a float written.
        return (4 * values, values * (1 + sizeof(float)));
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var tensors = new Tensor[copies + 1];
        for (int i = 0; i < copies; i++) tensors[i] = RandomTensors.Bytes(device, i + 1, s.H, s.W, 3);
        var batch = Tensor.Zeros(new Shape(1, 3, s.PaddedH, s.PaddedW), DType.Float32, device);
        tensors[copies] = batch;
        return new BenchmarkCase(copies, i =>
        {
            for (int c = 0; c < 3; c++) PixelPlanes.Normalise(tensors[i], c, Normalisation, batch, c);
        }, tensors);
    }
}
