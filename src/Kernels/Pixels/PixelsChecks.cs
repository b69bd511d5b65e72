using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.Pixels;

internal static class PixelsChecks
{
    // torchvision's units (v / 255) and ImageNet statistics; detectron2's (v itself) and BGR means.
    private static readonly PixelNormalisation UnitRange = new(255f, 1f, 0.485f, 0.229f);
    private static readonly PixelNormalisation ByteRange = new(1f, 1f, 103.53f, 57.375f);
    private static readonly PixelNormalisation Rescaled = new(255f, 255f, 102.9801f, 1f);

    public static IEnumerable<KernelCheck> All =>
    [
        new NormaliseCase("normalise_pixels/unit-range-into-padded-plane", [13, 21, 3], 2, UnitRange, [2, 3, 16, 32], 4),
        new NormaliseCase("normalise_pixels/byte-range-whole-plane", [9, 7, 3], 0, ByteRange, [1, 3, 9, 7], 2),
        new NormaliseCase("normalise_pixels/rescaled-gray", [5, 11, 1], 0, Rescaled, [1, 1, 8, 12], 0),
        new NormaliseCase("normalise_pixels/empty-image", [0, 4, 3], 1, UnitRange, [1, 3, 4, 4], 1),
        new PlaceCase("place_plane/resized-channel-into-batch-slot", [1, 3, 10, 14], 1, [2, 3, 16, 32], 4),
        new PlaceCase("place_plane/same-size", [1, 1, 6, 5], 0, [1, 1, 6, 5], 0),
    ];

    /// <summary>The destination filled with a sentinel first, so what the op must leave alone is checked too.</summary>
    private static Tensor Destination(Device device, int[] shape)
    {
        var values = new float[new Shape(shape).Numel];
        Array.Fill(values, -7f);
        return RandomTensors.OnDevice(Tensor.FromArray(values, shape), device);
    }

    private sealed class NormaliseCase(string name, int[] pixelShape, int channel, PixelNormalisation normalisation, int[] destinationShape, int plane) : KernelCheck
    {
        public override string Name => name;

        // The same float operations in the same order on both sides: any difference is a bug.
        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var pixels = RandomTensors.Bytes(device, 93, pixelShape);
            var destination = Destination(device, destinationShape);
            PixelPlanes.Normalise(pixels, channel, normalisation, destination, plane);
            return [RandomTensors.ToCpu(destination)];
        }
    }

    private sealed class PlaceCase(string name, int[] sourceShape, int sourcePlane, int[] destinationShape, int plane) : KernelCheck
    {
        public override string Name => name;

        public override double Tolerance => 0;

        public override IReadOnlyList<Tensor> Run(Device device)
        {
            using var source = RandomTensors.Uniform(device, 94, -3, 3, sourceShape);
            var destination = Destination(device, destinationShape);
            PixelPlanes.Place(source, sourcePlane, destination, plane);
            return [RandomTensors.ToCpu(destination)];
        }
    }
}
