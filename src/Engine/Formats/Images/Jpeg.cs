using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Formats.Images;

/// <summary>JPEG decode and encode through TurboJPEG with libjpeg's defaults (accurate DCT, fancy upsampling), like PIL and djpeg.</summary>
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
        using var handle = Create(TurboJpegNative.tjInitDecompress, name);
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

    /// <summary>
    /// Encodes gray as a one-component JPEG and RGB as YCbCr without chroma subsampling (4:4:4): 4:2:0
    /// would smear colour across object edges by a pixel, and those edges are what masks are judged on.
    /// RGBA is refused rather than silently losing its alpha. The output is deterministic for the same
    /// pixels, quality and libjpeg-turbo version.
    /// </summary>
    public static byte[] Encode(Image image, int quality = 95)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (quality is < 1 or > 100)
            throw new ArgumentOutOfRangeException(nameof(quality), quality, $"JPEG quality must be between 1 and 100, got {quality}");
        const string name = "JPEG encoder";
        if (image.Channels == 4)
            throw new ArgumentException("JPEG has no alpha channel; convert the image with ToRgb() or write it as PNG", nameof(image));
        (int format, int subsampling) = image.Channels == 1
            ? (TurboJpegNative.PixelFormatGray, TurboJpegNative.SubsamplingGray)
            : (TurboJpegNative.PixelFormatRgb, TurboJpegNative.Subsampling444);
        using var handle = Create(TurboJpegNative.tjInitCompress, name);
        byte* buffer = null;
        var size = new CULong(0);
        try
        {
            fixed (byte* pixels = image.Pixels)
            {
                if (TurboJpegNative.tjCompress2(handle, pixels, image.Width, 0, image.Height, format, &buffer, &size, subsampling, quality, 0) != 0)
                    throw new InvalidOperationException($"{name}: could not encode a {image.Width}x{image.Height} image: {TurboJpegNative.LastError(handle)}");
            }
            return new ReadOnlySpan<byte>(buffer, checked((int)size.Value)).ToArray();
        }
        finally
        {
            // TurboJPEG allocates the output itself (and may have on failure too); only tjFree may release it.
            if (buffer != null) TurboJpegNative.tjFree(buffer);
        }
    }

    /// <summary>Writes a JPEG atomically: a failed write leaves no file behind.</summary>
    public static void Write(string path, Image image, int quality = 95)
    {
        byte[] encoded = Encode(image, quality);
        AtomicFile.Write(path, stream => stream.Write(encoded));
    }

    private static TurboJpegHandle Create(Func<TurboJpegHandle> init, string name)
    {
        TurboJpegHandle handle;
        try
        {
            handle = init();
        }
        catch (DllNotFoundException e)
        {
            throw new DllNotFoundException($"{name}: {TurboJpegNative.Library} is missing; install the Debian package {TurboJpegNative.Package}", e);
        }
        if (handle.IsInvalid)
        {
            handle.Dispose();
            throw new OutOfMemoryException($"{name}: TurboJPEG could not create a codec instance");
        }
        return handle;
    }
}
