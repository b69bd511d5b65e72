using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Formats.Images;

/// <summary>JPEG decode through TurboJPEG with libjpeg's defaults (accurate DCT, fancy upsampling), like PIL and djpeg.</summary>
public static unsafe class Jpeg
{
    public static bool HasSignature(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    /// <summary>
    /// Decodes to RGB (gray JPEGs stay 1 channel) and applies the EXIF orientation. Decoder warnings,
    /// such as a truncated file, are errors: a half-grey image would silently give wrong detections.
    /// </summary>
    public static Image Decode(ReadOnlySpan<byte> data, string name, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        using var handle = Create(name);
        int width, height, subsampling, colorspace;
        fixed (byte* p = data)
        {
            var size = new CULong((nuint)data.Length);
            // A truncated header can report success with a zero size; the error string then says why.
            if (TurboJpegNative.tjDecompressHeader3(handle, p, size, &width, &height, &subsampling, &colorspace) != 0 || width <= 0 || height <= 0)
                throw new FileFormatException(name, $"not a valid JPEG: {TurboJpegNative.LastError(handle)}");
            limits.Check(name, width, height);
            if (colorspace is TurboJpegNative.ColorspaceCmyk or TurboJpegNative.ColorspaceYcck)
                throw new FileFormatException(name, "CMYK JPEGs are not supported; convert the image to RGB");
            int channels = colorspace == TurboJpegNative.ColorspaceGray ? 1 : 3;
            int format = channels == 1 ? TurboJpegNative.PixelFormatGray : TurboJpegNative.PixelFormatRgb;
            var pixels = new byte[(long)width * height * channels];
            fixed (byte* output = pixels)
            {
                if (TurboJpegNative.tjDecompress2(handle, p, size, output, width, 0, height, format, 0) != 0)
                    throw new FileFormatException(name, $"corrupt or truncated JPEG: {TurboJpegNative.LastError(handle)}");
            }
            var image = new Image(width, height, channels, pixels);
            return ExifOrientation.Apply(image, ExifOrientation.Read(data));
        }
    }

    private static TurboJpegHandle Create(string name)
    {
        TurboJpegHandle handle;
        try
        {
            handle = TurboJpegNative.tjInitDecompress();
        }
        catch (DllNotFoundException e)
        {
            throw new DllNotFoundException($"{name}: {TurboJpegNative.Library} is missing; install the Debian package {TurboJpegNative.Package}", e);
        }
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new OutOfMemoryException($"{name}: TurboJPEG could not create a decompressor");
        }
        return handle;
    }
}
