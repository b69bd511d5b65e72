using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Resampling;

namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// Turns a decoded RGB (or gray) image into a detector's padded, normalised input batch of one, reproducing
/// each framework's float rounding: on the CPU, where images are decoded, with one upload at the end.
/// </summary>
public static class ImagePreprocessor
{
    public static PreprocessedImage Run(Image image, PreprocessConfig config, Device device)
    {
        if (config.PixelMean.Length != 3 || config.PixelStd.Length != 3)
            throw new ArgumentException($"preprocess: pixel mean and std need 3 values, got {config.PixelMean.Length} and {config.PixelStd.Length}");
        if (config.SizeDivisibility < 1) throw new ArgumentException($"preprocess: size divisibility {config.SizeDivisibility} must be positive");
        var rgb = image.ToRgb();
        var (height, width) = config.ResizedSize(rgb.Height, rgb.Width);
        Tensor normalised;
        if (config.Flavour.ResizesNormalisedImage) normalised = NormaliseAndResize(rgb, config, height, width);
        else normalised = Normalise(PillowResize.Bilinear(rgb, width, height), config);
        using (normalised)
        {
            using var padded = Pad(normalised, config.SizeDivisibility);
            return new PreprocessedImage(padded.To(device), rgb.Height, rgb.Width, height, width);
        }
    }

    /// <summary>[1, 3, H, W] float32 in the network's channel order, normalised the flavour's way.</summary>
    private static Tensor Normalise(Image rgb, PreprocessConfig config)
    {
        int plane = rgb.Width * rgb.Height;
        var result = Tensor.Empty(Device.Cpu, DType.Float32, 1, 3, rgb.Height, rgb.Width);
        var dst = result.AsSpan<float>();
        for (int c = 0; c < 3; c++) NormaliseChannel(rgb, config, c, dst.Slice(c * plane, plane));
        return result;
    }

    /// <summary>
    /// torchvision's normalise-then-resize, one channel at a time: bilinear resizing treats channels alone,
    /// so the values are the same while the full-size float copy is one channel (4 bytes per image pixel), not three.
    /// </summary>
    private static Tensor NormaliseAndResize(Image rgb, PreprocessConfig config, int height, int width)
    {
        var result = Tensor.Empty(Device.Cpu, DType.Float32, 1, 3, height, width);
        using var full = Tensor.Empty(Device.Cpu, DType.Float32, 1, 1, rgb.Height, rgb.Width);
        for (int c = 0; c < 3; c++)
        {
            NormaliseChannel(rgb, config, c, full.AsSpan<float>());
            using var resized = Resize.Bilinear(full, height, width, alignCorners: false);
            resized.AsSpan<float>().CopyTo(result.AsSpan<float>().Slice(c * height * width, height * width));
        }
        return result;
    }

    /// <summary>Channel <paramref name="c"/> (in the network's order) of the image, normalised, into <paramref name="channel"/>.</summary>
    private static void NormaliseChannel(Image rgb, PreprocessConfig config, int c, Span<float> channel)
    {
        int from = config.Bgr ? 2 - c : c;
        float mean = config.PixelMean[c], std = config.PixelStd[c];
        var lookup = new float[256];
        for (int v = 0; v < 256; v++) lookup[v] = (config.Flavour.PixelValue((byte)v) - mean) / std;
        var src = rgb.Pixels;
        for (int i = 0; i < channel.Length; i++) channel[i] = lookup[src[i * 3 + from]];
    }

    /// <summary>Zeros on the bottom and right up to the next multiple of <paramref name="divisibility"/>, after normalisation.</summary>
    private static Tensor Pad(Tensor x, int divisibility)
    {
        int c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int ph = (h + divisibility - 1) / divisibility * divisibility, pw = (w + divisibility - 1) / divisibility * divisibility;
        var padded = Tensor.Zeros(new Shape(1, c, ph, pw), DType.Float32, Device.Cpu);
        var src = x.AsSpan<float>();
        var dst = padded.AsSpan<float>();
        for (int ch = 0; ch < c; ch++)
        {
            for (int y = 0; y < h; y++)
                src.Slice((ch * h + y) * w, w).CopyTo(dst.Slice((ch * ph + y) * pw, w));
        }
        return padded;
    }
}
