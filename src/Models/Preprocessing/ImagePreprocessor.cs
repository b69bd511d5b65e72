using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Pixels;
using NativeSeg.Kernels.Resampling;
using NativeSeg.Models.Detection;

namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// Turns decoded RGB (or gray) images into a detector's padded, normalised input batch on the model's device,
/// reproducing each framework's float rounding. A batch's images cross to a device in one host-to-device copy, as their
/// original 8-bit pixels (a byte per channel value, not the four of a float, and before any upscaling); everything
/// else runs as device kernels there (CPU twins on the CPU): Pillow's fixed-point resize of the 8-bit image
/// (detectron2, maskrcnn-benchmark, BCNet, BlendMask) with weights uploaded once per axis size and kept in a
/// <see cref="PillowTaps"/>, the normalising, torchvision's bilinear resize of the normalised image, and the padding.
/// </summary>
public static class ImagePreprocessor
{
    /// <summary>One image as a batch of one.</summary>
    /// <param name="taps">Where Pillow's weights are kept between calls (on <paramref name="device"/>); without one they are uploaded for this call alone.</param>
    public static PreprocessedImage Run(Image image, PreprocessConfig config, Device device, PillowTaps? taps = null)
    {
        var (input, geometries) = Batch([image], config, device, taps);
        var g = geometries[0];
        return new PreprocessedImage(input, g.OriginalHeight, g.OriginalWidth, g.Height, g.Width);
    }

    /// <summary>
    /// The images as one [N, 3, PH, PW] batch (the caller owns it), zero-padded on the bottom and right to the largest
    /// image's size rounded up to the divisibility, as both upstreams pad a batch, with where each image sits in it.
    /// </summary>
    /// <param name="taps">Where Pillow's weights are kept between calls (on <paramref name="device"/>); without one they are uploaded for this call alone.</param>
    public static (Tensor Input, IReadOnlyList<ImageGeometry> Geometries) Batch(IReadOnlyList<Image> images, PreprocessConfig config, Device device,
        PillowTaps? taps = null)
    {
        if (config.PixelMean.Length != 3 || config.PixelStd.Length != 3)
            throw new ArgumentException($"preprocess: pixel mean and std need 3 values, got {config.PixelMean.Length} and {config.PixelStd.Length}");
        if (config.SizeDivisibility < 1) throw new ArgumentException($"preprocess: size divisibility {config.SizeDivisibility} must be positive");
        if (images.Count == 0) throw new ArgumentException("preprocess: a batch needs at least one image");
        if (taps is not null && !ReferenceEquals(taps.Device, device))
            throw new ArgumentException($"preprocess: Pillow's weights are kept on {taps.Device}, the batch is made on {device}");
        var rgb = images.Select(i => i.ToRgb()).ToList();
        var geometries = rgb.Select(r =>
        {
            var (height, width) = config.ResizedSize(r.Height, r.Width);
            return new ImageGeometry(height, width, r.Height, r.Width);
        }).ToList();
        int ph = geometries.Max(g => RoundUp(g.Height, config.SizeDivisibility)), pw = geometries.Max(g => RoundUp(g.Width, config.SizeDivisibility));
        using var ownTaps = taps is null ? new PillowTaps(device) : null;
        var originals = Upload(rgb, device);
        try
        {
            var input = Tensor.Zeros(new Shape(rgb.Count, 3, ph, pw), DType.Float32, device);
            try
            {
                for (int n = 0; n < rgb.Count; n++) Into(input, n, originals[n], geometries[n], config, taps ?? ownTaps!);
            }
            catch
            {
                input.Dispose();
                throw;
            }
            return (input, geometries);
        }
        finally
        {
            foreach (var original in originals) original.Dispose();
        }
    }

    private static int RoundUp(int size, int divisibility) => (size + divisibility - 1) / divisibility * divisibility;

    /// <summary>
    /// Image <paramref name="slot"/> of the batch from its <paramref name="original"/> pixels [H, W, 3]. torchvision
    /// normalises the full-size image, then resizes the floats (GeneralizedRCNNTransform): one channel at a time, since
    /// bilinear resizing treats channels alone, so the full-size float copy is one channel (4 bytes per image pixel),
    /// not three. The others resize the 8-bit image with Pillow, then normalise.
    /// </summary>
    private static void Into(Tensor input, int slot, Tensor original, ImageGeometry g, PreprocessConfig config, PillowTaps taps)
    {
        bool resizesFloats = config.Flavour.ResizesNormalisedImage;
        using var pixels = resizesFloats ? original.Share() : PillowResize.Bilinear(original, g.Height, g.Width, taps);
        // A bilinear resize to the same size is the identity (every tap lands on its own pixel with weight 1).
        bool resizes = resizesFloats && (g.Height != g.OriginalHeight || g.Width != g.OriginalWidth);
        for (int c = 0; c < 3; c++)
        {
            var normalisation = Normalisation(config, c);
            int from = config.Bgr ? 2 - c : c, plane = slot * 3 + c;
            if (!resizes)
            {
                PixelPlanes.Normalise(pixels, from, normalisation, input, plane);
                continue;
            }
            using var full = Tensor.Empty(input.Device, DType.Float32, 1, 1, g.OriginalHeight, g.OriginalWidth);
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

    /// <summary>
    /// Each image's pixels [H, W, 3] on the device, views of one buffer filled by one host-to-device copy: from the
    /// decoded array itself for a single image, else from the images laid end to end on the host (a memcpy of their
    /// original bytes). The caller disposes the views.
    /// </summary>
    private static unsafe Tensor[] Upload(IReadOnlyList<Image> rgb, Device device)
    {
        long bytes = rgb.Sum(i => (long)i.Pixels.Length);
        if (bytes > int.MaxValue) throw new ArgumentException($"preprocess: the batch's {rgb.Count} images hold {bytes} bytes, more than one upload of 2 GiB; segment fewer at a time");
        int total = (int)bytes;
        using var all = Tensor.Empty(device, DType.UInt8, total);
        if (device.IsCpu)
        {
            LayEndToEnd(rgb, all.AsSpan<byte>());
        }
        else
        {
            var host = rgb.Count == 1 ? rgb[0].Pixels : GC.AllocateUninitializedArray<byte>(total);
            if (rgb.Count > 1) LayEndToEnd(rgb, host);
            fixed (byte* source = host) device.Gpu.CopyHostToDevice(all.Pointer, (nint)source, all.Bytes);
        }
        var views = new Tensor[rgb.Count];
        for (int n = 0, at = 0; n < rgb.Count; at += rgb[n].Pixels.Length, n++)
        {
            using var image = all.Slice(at, rgb[n].Pixels.Length);
            views[n] = image.Reshape(rgb[n].Height, rgb[n].Width, 3);
        }
        return views;
    }

    private static void LayEndToEnd(IReadOnlyList<Image> images, Span<byte> into)
    {
        int at = 0;
        foreach (var image in images)
        {
            image.Pixels.CopyTo(into[at..]);
            at += image.Pixels.Length;
        }
    }
}
