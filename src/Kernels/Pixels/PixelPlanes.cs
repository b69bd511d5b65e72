using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Indexing;

namespace NativeSeg.Kernels.Pixels;

/// <summary>
/// A decoded image's way into a network input batch on the device where it was uploaded as 8-bit pixels: one
/// channel normalised into a float plane, and a float image placed into its slot of a larger (padded) batch.
/// Both write the top-left corner of a plane of the destination [.., PH, PW] and leave the rest (the padding) as it is.
/// </summary>
public static class PixelPlanes
{
    private const string NormaliseOp = "normalise_pixels", PlaceOp = "place_plane";

    private static KernelSource Source => KernelCatalog.Get("Pixels/Pixels.cu");

    /// <summary>
    /// Channel <paramref name="channel"/> of <paramref name="pixels"/> (uint8 [H, W, C]), normalised, into plane
    /// <paramref name="plane"/> of <paramref name="destination"/> (float32, rank 3 or more, last two dims at least H and W).
    /// </summary>
    public static void Normalise(Tensor pixels, int channel, PixelNormalisation normalisation, Tensor destination, int plane)
    {
        Check.DType(pixels, DType.UInt8, NormaliseOp, "pixels");
        Check.Rank(pixels, 3, NormaliseOp, "pixels");
        int h = pixels.Shape[0], w = pixels.Shape[1], channels = pixels.Shape[2];
        Check.That(channel >= 0 && channel < channels, NormaliseOp, $"channel {channel} outside pixels {pixels.Shape}");
        var (stride, offset) = PlaneOf(destination, plane, h, w, NormaliseOp, $"pixels {pixels.Shape}");
        Check.SameDevice(NormaliseOp, pixels, destination);
        if ((long)h * w == 0) return;
        if (pixels.Device.IsCpu) NormaliseCpu(pixels, channel, normalisation, destination, stride, offset);
        else LaunchNormalise(pixels, channel, normalisation, destination, stride, offset);
    }

    /// <summary>
    /// Plane <paramref name="sourcePlane"/> of <paramref name="source"/> (float32 [.., H, W]) into plane <paramref name="plane"/>
    /// of <paramref name="destination"/> (float32 [.., PH, PW], PH ≥ H, PW ≥ W): a batch slot's channel of a resized image.
    /// </summary>
    public static void Place(Tensor source, int sourcePlane, Tensor destination, int plane)
    {
        Check.DType(source, DType.Float32, PlaceOp, "source");
        Check.That(source.Rank >= 2, PlaceOp, $"source {source.Shape} must have at least two dimensions");
        int h = source.Shape[source.Rank - 2], w = source.Shape[source.Rank - 1];
        long planes = (long)h * w == 0 ? 0 : source.Numel / ((long)h * w);
        Check.That(sourcePlane >= 0 && sourcePlane < planes, PlaceOp, $"plane {sourcePlane} outside source {source.Shape}");
        var (stride, offset) = PlaneOf(destination, plane, h, w, PlaceOp, $"source {source.Shape}");
        Check.SameDevice(PlaceOp, source, destination);
        long row = (long)w * sizeof(float);
        RowBlockCopy.Run(source, destination, h, row, row, sourcePlane * h * row, (long)stride * sizeof(float), offset * sizeof(float));
    }

    /// <summary>The row stride of the destination and the element offset of its plane's first value, checked.</summary>
    private static (int Stride, long Offset) PlaneOf(Tensor destination, int plane, int h, int w, string op, string source)
    {
        Check.DType(destination, DType.Float32, op, "destination");
        Check.That(destination.Rank >= 3, op, $"destination {destination.Shape} must have at least three dimensions");
        int ph = destination.Shape[destination.Rank - 2], pw = destination.Shape[destination.Rank - 1];
        long planes = (long)ph * pw == 0 ? 0 : destination.Numel / ((long)ph * pw);
        Check.That(plane >= 0 && plane < planes, op, $"plane {plane} outside destination {destination.Shape}");
        Check.That(h <= ph && w <= pw, op, $"{source} does not fit in a {ph}x{pw} plane of destination {destination.Shape}");
        return (pw, (long)plane * ph * pw);
    }

    // The 256 values a channel can take, computed once: the same arithmetic as the kernel's per pixel.
    private static unsafe void NormaliseCpu(Tensor pixels, int channel, PixelNormalisation normalisation, Tensor destination, int stride, long offset)
    {
        var lookup = new float[256];
        for (int v = 0; v < 256; v++) lookup[v] = normalisation.Apply((byte)v);
        int h = pixels.Shape[0], w = pixels.Shape[1], channels = pixels.Shape[2];
        byte* src = (byte*)pixels.Pointer;
        float* dst = (float*)destination.Pointer + offset;
        CpuThreads.For(h, (first, last) =>
        {
            for (int y = first; y < last; y++)
            {
                byte* row = src + ((long)y * w * channels + channel);
                float* output = dst + (long)y * stride;
                for (int x = 0; x < w; x++) output[x] = lookup[row[x * channels]];
            }
        });
    }

    private static unsafe void LaunchNormalise(Tensor pixels, int channel, PixelNormalisation n, Tensor destination, int stride, long offset)
    {
        var gpu = pixels.Device.Gpu;
        nint input = pixels.Pointer, output = destination.Pointer + (nint)(offset * sizeof(float));
        long h = pixels.Shape[0];
        int w = pixels.Shape[1], channels = pixels.Shape[2];
        float divisor = n.Divisor, multiplier = n.Multiplier, mean = n.Mean, std = n.Std;
        void** args = stackalloc void*[] { &input, &output, &h, &w, &channels, &channel, &stride, &divisor, &multiplier, &mean, &std };
        gpu.Launch(gpu.GetKernel(Source, "normalise_pixels_u8_f32"), Dim3.Cover(h * w, 256), new Dim3(256), 0, args, 11);
    }
}
