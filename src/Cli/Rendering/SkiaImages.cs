using NativeSeg.Engine.Formats.Images;
using SkiaSharp;

namespace NativeSeg.Cli.Rendering;

/// <summary>
/// Copies between the engine's images and Skia bitmaps. Skia draws only into 4-byte pixels; the engine's PNG
/// writer stays the one encoder for every file NativeSeg writes, so drawings come back as RGB.
/// </summary>
internal static class SkiaImages
{
    /// <summary>An opaque RGBA bitmap holding the image's pixels (gray replicated, alpha dropped).</summary>
    public static SKBitmap ToBitmap(Image image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var rgb = image.ToRgb().Pixels;
        var rgba = bitmap.GetPixelSpan();
        for (int p = 0, q = 0; p < rgb.Length; p += 3, q += 4)
        {
            rgba[q] = rgb[p];
            rgba[q + 1] = rgb[p + 1];
            rgba[q + 2] = rgb[p + 2];
            rgba[q + 3] = 255;
        }
        return bitmap;
    }

    /// <summary>The bitmap's colours as an RGB image.</summary>
    public static Image ToImage(SKBitmap bitmap)
    {
        if (bitmap.ColorType != SKColorType.Rgba8888 || bitmap.RowBytes != bitmap.Width * 4)
            throw new ArgumentException($"expected a packed RGBA bitmap, got {bitmap.ColorType} with {bitmap.RowBytes} bytes per row", nameof(bitmap));
        ReadOnlySpan<byte> rgba = bitmap.GetPixelSpan();
        var rgb = new byte[(long)bitmap.Width * bitmap.Height * 3];
        for (int p = 0, q = 0; p < rgb.Length; p += 3, q += 4)
        {
            rgb[p] = rgba[q];
            rgb[p + 1] = rgba[q + 1];
            rgb[p + 2] = rgba[q + 2];
        }
        return new Image(bitmap.Width, bitmap.Height, 3, rgb);
    }
}
