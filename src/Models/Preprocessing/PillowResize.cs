using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Resampling;

namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// Pillow's <c>Image.resize(size, Image.BILINEAR)</c> on 8-bit images, bit for bit (libImaging/Resample.c):
/// a triangle filter stretched by the scale when downscaling (so it antialiases), weights in 22-bit fixed
/// point, a horizontal pass then a vertical one with a uint8 image in between. detectron2 and
/// maskrcnn-benchmark resize their inputs this way, so matching their detections needs these exact pixels.
/// The weights depend on the sizes only (<see cref="Taps"/>); the passes are <see cref="FixedPointResample"/>'s, on
/// the CPU or on the device the image was uploaded to.
/// </summary>
public static class PillowResize
{
    /// <summary>Pillow's fraction bits: a 32-bit accumulator less 8 bits of pixel and 2 of headroom.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>The image resized on the CPU.</summary>
    public static Image Bilinear(Image source, int width, int height)
    {
        // Pillow premultiplies alpha for RGBA; detection inputs are converted to RGB (or L) before resizing.
        if (source.Channels == 4) throw new ArgumentException("pillow resize: RGBA images must be converted to RGB first");
        CheckSize(width, height);
        if (width == source.Width && height == source.Height)
            return new Image(width, height, source.Channels, (byte[])source.Pixels.Clone());
        using var taps = new PillowTaps(Device.Cpu);
        using var pixels = Tensor.FromArray(source.Pixels, source.Height, source.Width, source.Channels);
        using var resized = Bilinear(pixels, height, width, taps);
        return new Image(width, height, source.Channels, resized.ToArray<byte>());
    }

    /// <summary>
    /// <paramref name="pixels"/> (uint8 [H, W, C], on any device) resized to <paramref name="height"/> × <paramref name="width"/>
    /// with <paramref name="taps"/>' weights (on the same device); the caller disposes the result, which is a view of
    /// <paramref name="pixels"/> when the size is unchanged.
    /// </summary>
    public static Tensor Bilinear(Tensor pixels, int height, int width, PillowTaps taps)
    {
        CheckSize(width, height);
        if (pixels.Rank != 3) throw new ArgumentException($"pillow resize: pixels {pixels.Shape} must be [H, W, C]");
        int h = pixels.Shape[0], w = pixels.Shape[1];
        var image = pixels.Share();
        try
        {
            if (width != w) image = Replace(image, FixedPointResample.Horizontal(image, taps.For(w, width), width, PrecisionBits));
            if (height != h) image = Replace(image, FixedPointResample.Vertical(image, taps.For(h, height), height, PrecisionBits));
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The weights of one axis resized from <paramref name="inSize"/> to <paramref name="outSize"/> pixels, packed as
    /// <see cref="FixedPointResample"/> takes them: per output its first input, how many follow, and their weights.
    /// </summary>
    public static int[] Taps(int inSize, int outSize)
    {
        if (inSize <= 0 || outSize <= 0) throw new ArgumentException($"pillow resize: axis sizes {inSize} -> {outSize} must be positive");
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale;
        int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var taps = new int[outSize * (2 + kernelSize)];
        var k = new double[kernelSize];
        for (int xx = 0; xx < outSize; xx++)
        {
            double center = (xx + 0.5) * scale;
            double inverse = 1.0 / filterScale;
            // Pillow rounds these with a truncating cast, which for small negatives rounds up to 0.
            int xmin = Math.Max((int)(center - support + 0.5), 0);
            int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
            double total = 0;
            for (int x = 0; x < xmax; x++)
            {
                double w = Triangle((x + xmin - center + 0.5) * inverse);
                k[x] = w;
                total += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                double w = total != 0.0 ? k[x] / total : k[x];
                taps[2 * outSize + xx * kernelSize + x] = (int)(w < 0 ? -0.5 + w * (1 << PrecisionBits) : 0.5 + w * (1 << PrecisionBits));
            }
            taps[xx] = xmin;
            taps[outSize + xx] = Math.Max(xmax, 0);
        }
        return taps;
    }

    private static void CheckSize(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"pillow resize: target size {width}x{height} must be positive");
    }

    private static Tensor Replace(Tensor image, Tensor next)
    {
        image.Dispose();
        return next;
    }

    private static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }
}
