using NativeSeg.Engine.Cpu;
using NativeSeg.Engine.Formats.Images;

namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// Pillow's <c>Image.resize(size, Image.BILINEAR)</c> on 8-bit images, bit for bit (libImaging/Resample.c):
/// a triangle filter stretched by the scale when downscaling (so it antialiases), weights in 22-bit fixed
/// point, a horizontal pass then a vertical one with a uint8 image in between. detectron2 and
/// maskrcnn-benchmark resize their inputs this way, so matching their detections needs these exact pixels.
/// </summary>
public static class PillowResize
{
    private const int PrecisionBits = 32 - 8 - 2;

    public static Image Bilinear(Image source, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"pillow resize: target size {width}x{height} must be positive");
        // Pillow premultiplies alpha for RGBA; detection inputs are converted to RGB (or L) before resizing.
        if (source.Channels == 4) throw new ArgumentException("pillow resize: RGBA images must be converted to RGB first");
        if (width == source.Width && height == source.Height)
            return new Image(width, height, source.Channels, (byte[])source.Pixels.Clone());
        var image = source;
        if (width != image.Width) image = Horizontal(image, width);
        if (height != image.Height) image = Vertical(image, height);
        return image;
    }

    /// <summary>Per output index: the first input index, how many follow, and their fixed-point weights (ksize apart).</summary>
    private sealed record Coefficients(int[] Start, int[] Count, int[] Weights, int KernelSize);

    private static Coefficients Compute(int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double filterScale = Math.Max(scale, 1.0);
        double support = filterScale;
        int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new int[outSize * kernelSize];
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
                weights[xx * kernelSize + x] = (int)(w < 0 ? -0.5 + w * (1 << PrecisionBits) : 0.5 + w * (1 << PrecisionBits));
            }
            start[xx] = xmin;
            count[xx] = Math.Max(xmax, 0);
        }
        return new Coefficients(start, count, weights, kernelSize);
    }

    private static double Triangle(double x)
    {
        x = Math.Abs(x);
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    private static byte Clip8(int accumulator) =>
        accumulator <= 0 ? (byte)0 : accumulator >= 255 << PrecisionBits ? (byte)255 : (byte)(accumulator >> PrecisionBits);

    private static Image Horizontal(Image source, int width)
    {
        var c = Compute(source.Width, width);
        int channels = source.Channels, inRow = source.Width * channels, outRow = width * channels;
        var src = source.Pixels;
        var dst = new byte[source.Height * outRow];
        CpuThreads.For(source.Height, (first, last) =>
        {
            for (int y = first; y < last; y++)
            {
                for (int xx = 0; xx < width; xx++)
                {
                    int offset = y * inRow + c.Start[xx] * channels, kernel = xx * c.KernelSize;
                    for (int ch = 0; ch < channels; ch++)
                    {
                        int ss = 1 << (PrecisionBits - 1);
                        for (int x = 0; x < c.Count[xx]; x++) ss += src[offset + x * channels + ch] * c.Weights[kernel + x];
                        dst[y * outRow + xx * channels + ch] = Clip8(ss);
                    }
                }
            }
        });
        return new Image(width, source.Height, channels, dst);
    }

    private static Image Vertical(Image source, int height)
    {
        var c = Compute(source.Height, height);
        int row = source.Width * source.Channels;
        var src = source.Pixels;
        var dst = new byte[height * row];
        CpuThreads.For(height, (first, last) =>
        {
            for (int yy = first; yy < last; yy++)
            {
                int kernel = yy * c.KernelSize, offset = c.Start[yy] * row;
                for (int i = 0; i < row; i++)
                {
                    int ss = 1 << (PrecisionBits - 1);
                    for (int y = 0; y < c.Count[yy]; y++) ss += src[offset + y * row + i] * c.Weights[kernel + y];
                    dst[yy * row + i] = Clip8(ss);
                }
            }
        });
        return new Image(source.Width, height, source.Channels, dst);
    }
}
