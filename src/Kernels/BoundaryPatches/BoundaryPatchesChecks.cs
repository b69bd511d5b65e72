using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.BoundaryPatches;

internal static class BoundaryPatchesChecks
{
    public static IEnumerable<KernelCheck> All =>
    [
        new Case("boundary_patches/levels-nms-0.25", 6, 100, 130, 64, 0.25f, 128),
        new Case("boundary_patches/nms-0.55-small-patches", 5, 70, 90, 16, 0.55f, 32),
        new Case("boundary_patches/odd-resize-ratio", 3, 80, 75, 32, 0.15f, 48),
        new Case("boundary_patches/image-not-larger-than-patch", 3, 64, 200, 64, 0.25f, 128),
    ];

    /// <summary>
    /// Seeded masks [N, H, W]: ellipses of random size and place (some crossing the image border), with mask 0 empty
    /// and mask 1 full, so boundaries along the border and masks without a boundary are both exercised.
    /// </summary>
    internal static byte[] RandomMasks(int seed, int n, int h, int w)
    {
        var rng = new Random(seed);
        var masks = new byte[n * h * w];
        for (int i = 0; i < n; i++)
        {
            var plane = masks.AsSpan(i * h * w, h * w);
            if (i == 0) continue;
            if (i == 1) { plane.Fill(1); continue; }
            double cx = rng.NextDouble() * w, cy = rng.NextDouble() * h;
            double rx = 4 + rng.NextDouble() * w / 2, ry = 4 + rng.NextDouble() * h / 2;
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    double u = (x - cx) / rx, v = (y - cy) / ry;
                    if (u * u + v * v <= 1) plane[y * w + x] = (byte)(1 + rng.Next(255));
                }
            }
        }
        return masks;
    }

    /// <summary>A seeded uint8 RGB image [H, W, 3].</summary>
    internal static byte[] RandomImage(int seed, int h, int w)
    {
        var image = new byte[h * w * 3];
        new Random(seed).NextBytes(image);
        return image;
    }

    private sealed class Case(string name, int n, int h, int w, int size, float threshold, int outSize) : KernelCheck
    {
        private static readonly PatchNormalization Normalization = new([123.675f, 116.28f, 103.53f], [58.395f, 57.12f, 57.375f]);

        public override string Name => name;

        public override double Tolerance => 1e-6;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var masks = RandomTensors.OnDevice(Tensor.FromArray(RandomMasks(n + h, n, h, w), n, h, w), device);
            using var image = RandomTensors.OnDevice(Tensor.FromArray(RandomImage(w, h, w), h, w, 3), device);
            var levels = BoundaryPatches.Levels(masks);
            using var proposals = BoundaryPatches.Propose(masks, size, threshold);
            var input = BoundaryPatches.Crop(image, masks, proposals, outSize, Normalization, proposals.Count / 3);
            using var logits = RandomTensors.Uniform(device, n, -3f, 3f, proposals.Count, 2, size, size);
            var refined = BoundaryPatches.Reassemble(logits, proposals, masks);
            var patches = Tensor.FromArray(proposals.ToArray(), proposals.Count, 3);
            return [RandomTensors.ToCpu(levels), patches, RandomTensors.ToCpu(input), RandomTensors.ToCpu(refined)];
        }
    }
}
