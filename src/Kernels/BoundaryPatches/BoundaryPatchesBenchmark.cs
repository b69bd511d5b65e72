using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoundaryPatches;

/// <summary>
/// BPR's extraction and reassembly for one image (boundary levels, patch NMS, crop and resize of 64-pixel patches
/// to 128, reassembly from random logits), as `refine` runs them around every instance of an image.
/// </summary>
internal sealed class BoundaryPatchesBenchmark : KernelBenchmark<BoundaryPatchesBenchmark.Size>
{
    private static readonly PatchNormalization Normalization = new([123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]);

    public sealed record Size(int Masks, int Height, int Width, int Patch, int Out);

    public override string Name => "boundary_patches";

    protected override IEnumerable<Size> SizesOf(BenchmarkPreset preset) => preset switch
    {
        BenchmarkPreset.Small => [new(4, 96, 128, 32, 64)],
        BenchmarkPreset.Paper => [new(20, 480, 640, 64, 128)],
        BenchmarkPreset.Large => [new(100, 1024, 2048, 64, 128)],
        _ => throw new ArgumentOutOfRangeException(nameof(preset)),
    };

    protected override string Label(Size s) => $"{s.Masks}x{s.Height}x{s.Width} patch {s.Patch}->{s.Out}";

    protected override (long Flops, long Bytes) Cost(Size s)
    {
        // Levels (9 reads a pixel), four NMS scans and reassembly over every mask pixel dominate the arithmetic.
        long pixels = (long)s.Masks * s.Height * s.Width;
        return (pixels * 16, pixels * 4 + s.Height * s.Width * 3);
    }

    protected override BenchmarkCase Setup(Device device, Size s, int copies)
    {
        var masks = new Tensor[copies];
        var images = new Tensor[copies];
        for (int i = 0; i < copies; i++)
        {
            masks[i] = RandomTensors.OnDevice(Tensor.FromArray(BoundaryPatchesChecks.RandomMasks(i + 1, s.Masks, s.Height, s.Width), s.Masks, s.Height, s.Width), device);
            images[i] = RandomTensors.OnDevice(Tensor.FromArray(BoundaryPatchesChecks.RandomImage(i + 1, s.Height, s.Width), s.Height, s.Width, 3), device);
        }
        return new BenchmarkCase(copies, i =>
        {
            using var proposals = BoundaryPatches.Propose(masks[i], s.Patch, 0.25f);
            using var input = BoundaryPatches.Crop(images[i], masks[i], proposals, s.Out, Normalization);
            using var logits = Tensor.Zeros(new Shape(proposals.Count, 2, s.Patch, s.Patch), DType.Float32, masks[i].Device);
            BoundaryPatches.Reassemble(logits, proposals, masks[i]).Dispose();
        }, [.. masks, .. images]);
    }
}
