using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Pixels;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Models.Detection;

namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// Turns decoded RGB (or gray) images into a detector's padded, normalised input batch on the model's device,
/// reproducing each framework's float rounding. Each image crosses to a device once, as its 8-bit pixels (a byte per
/// channel value, not the four of a float); normalising, torchvision's bilinear resize of the normalised image and
/// the padding are device kernels there (CPU twins on the CPU). Pillow's resize of the 8-bit image (detectron2,
/// maskrcnn-benchmark, BCNet) stays on the host, before the upload: it shrinks what is uploaded.
/// </summary>
public static class ImagePreprocessor
{
    /// <summary>One image as a batch of one.</summary>
    public static PreprocessedImage Run(Image image, PreprocessConfig config, Device device)
    {
        var (input, geometries) = Batch([image], config, device);
        var g = geometries[0];
        return new PreprocessedImage(input, g.OriginalHeight, g.OriginalWidth, g.Height, g.Width);
    }

    /// <summary>
    /// The images as one [N, 3, PH, PW] batch (the caller owns it), zero-padded on the bottom and right to the largest
    /// image's size rounded up to the divisibility, as both upstreams pad a batch, with where each image sits in it.
    /// </summary>
    public static (Tensor Input, IReadOnlyList<ImageGeometry> Geometries) Batch(IReadOnlyList<Image> images, PreprocessConfig config, Device device)
    {
        if (config.PixelMean.Length != 3 || config.PixelStd.Length != 3)
            throw new ArgumentException($"preprocess: pixel mean and std need 3 values, got {config.PixelMean.Length} and {config.PixelStd.Length}");
        if (config.SizeDivisibility < 1) throw new ArgumentException($"preprocess: size divisibility {config.SizeDivisibility} must be positive");
        if (images.Count == 0) throw new ArgumentException("preprocess: a batch needs at least one image");
        var rgb = images.Select(i => i.ToRgb()).ToList();
        var geometries = rgb.Select(r =>
        {
            var (height, width) = config.ResizedSize(r.Height, r.Width);
            return new ImageGeometry(height, width, r.Height, r.Width);
        }).ToList();
        int ph = geometries.Max(g => RoundUp(g.Height, config.SizeDivisibility)), pw = geometries.Max(g => RoundUp(g.Width, config.SizeDivisibility));
        var input = Tensor.Zeros(new Shape(rgb.Count, 3, ph, pw), DType.Float32, device);
        try
        {
            for (int n = 0; n < rgb.Count; n++) Into(input, n, rgb[n], geometries[n], config);
        }
        catch
        {
            input.Dispose();
            throw;
        }
        return (input, geometries);
    }

    private static int RoundUp(int size, int divisibility) => (size + divisibility - 1) / divisibility * divisibility;

    /// <summary>
    /// Image <paramref name="slot"/> of the batch. torchvision normalises the full-size image, then resizes the floats
    /// (GeneralizedRCNNTransform): one channel at a time, since bilinear resizing treats channels alone, so the
    /// full-size float copy is one channel (4 bytes per image pixel), not three.
    /// </summary>
    private static void Into(Tensor input, int slot, Image rgb, ImageGeometry g, PreprocessConfig config)
    {
        bool resizesFloats = config.Flavour.ResizesNormalisedImage;
        var source = resizesFloats ? rgb : PillowResize.Bilinear(rgb, g.Width, g.Height);
        using var pixels = Upload(source, input.Device);
        // A bilinear resize to the same size is the identity (every tap lands on its own pixel with weight 1).
        bool resizes = resizesFloats && (g.Height != rgb.Height || g.Width != rgb.Width);
        for (int c = 0; c < 3; c++)
        {
            var normalisation = Normalisation(config, c);
            int from = config.Bgr ? 2 - c : c, plane = slot * 3 + c;
            if (!resizes)
            {
                PixelPlanes.Normalise(pixels, from, normalisation, input, plane);
                continue;
            }
            using var full = Tensor.Empty(input.Device, DType.Float32, 1, 1, rgb.Height, rgb.Width);
            PixelPlanes.Normalise(pixels, from, normalisation, full, 0);
            using var resized = Resize.Bilinear(full, g.Height, g.Width, alignCorners: false);
            PixelPlanes.Place(resized, 0, input, plane);
        }
    }

    /// <summary>Channel <paramref name="c"/> (in the network's order) of the flavour's units and the configured statistics.</summary>
    private static PixelNormalisation Normalisation(PreprocessConfig config, int c)
    {
        var (divisor, multiplier) = config.Flavour.PixelUnits;
        return new PixelNormalisation(divisor, multiplier, config.PixelMean[c], config.PixelStd[c]);
    }

    /// <summary>The image's pixels [H, W, 3] on the device: its one host-to-device copy, straight from the decoded array.</summary>
    private static unsafe Tensor Upload(Image rgb, Device device)
    {
        if (device.IsCpu) return Tensor.FromArray(rgb.Pixels, rgb.Height, rgb.Width, 3);
        var pixels = Tensor.Empty(device, DType.UInt8, rgb.Height, rgb.Width, 3);
        fixed (byte* host = rgb.Pixels) device.Gpu.CopyHostToDevice(pixels.Pointer, (nint)host, pixels.Bytes);
        return pixels;
    }
}
