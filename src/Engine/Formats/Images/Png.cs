using System.Runtime.InteropServices;

namespace NativeSeg.Engine.Formats.Images;

/// <summary>PNG decode and encode through libspng.</summary>
public static unsafe class Png
{
    // Bounds ancillary chunk memory (text, ICC, ...) so a hostile file cannot make the decoder hoard it.
    private const int ChunkLimit = 64 << 20;

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    public static bool HasSignature(ReadOnlySpan<byte> data) => data.StartsWith(Signature);

    /// <summary>
    /// Decodes 8-bit PNGs (and lower-depth gray and palette ones): gray stays 1 channel, palette and
    /// truecolor become RGB, anything with alpha becomes RGBA. 16-bit PNGs are refused.
    /// </summary>
    public static Image Decode(ReadOnlySpan<byte> data, string name, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        using var context = Create(0, name);
        fixed (byte* p = data)
        {
            Check(SpngNative.spng_set_chunk_limits(context, ChunkLimit, ChunkLimit), name, "set limits");
            Check(SpngNative.spng_set_png_buffer(context, p, (nuint)data.Length), name, "read");
            SpngNative.Ihdr ihdr;
            Check(SpngNative.spng_get_ihdr(context, &ihdr), name, "read the header of");
            limits.Check(name, ihdr.Width, ihdr.Height);
            if (ihdr.BitDepth > 8)
                throw new FileFormatException(name, $"{ihdr.BitDepth}-bit PNGs are not supported (8-bit gray, RGB or RGBA only)");
            (int format, int channels) = ihdr.ColorType switch
            {
                0 => (SpngNative.FormatG8, 1),
                2 or 3 => (SpngNative.FormatRgb8, 3),
                _ => (SpngNative.FormatRgba8, 4),
            };
            nuint length;
            Check(SpngNative.spng_decoded_image_size(context, format, &length), name, "size");
            var pixels = new byte[(long)ihdr.Width * ihdr.Height * channels];
            if ((ulong)pixels.Length != length)
                throw new FileFormatException(name, $"decoder wants {length} bytes for a {ihdr.Width}x{ihdr.Height} image of {channels} channels");
            fixed (byte* output = pixels)
            {
                Check(SpngNative.spng_decode_image(context, output, length, format, 0), name, "decode");
            }
            return new Image((int)ihdr.Width, (int)ihdr.Height, channels, pixels);
        }
    }

    /// <summary>Encodes gray, RGB or RGBA as an 8-bit PNG.</summary>
    public static byte[] Encode(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        const string name = "PNG encoder";
        using var context = Create(SpngNative.ContextEncoder, name);
        var ihdr = new SpngNative.Ihdr
        {
            Width = (uint)image.Width,
            Height = (uint)image.Height,
            BitDepth = 8,
            ColorType = image.Channels switch { 1 => 0, 3 => 2, _ => 6 },
        };
        Check(SpngNative.spng_set_option(context, SpngNative.OptionEncodeToBuffer, 1), name, "configure");
        Check(SpngNative.spng_set_ihdr(context, &ihdr), name, "configure");
        fixed (byte* pixels = image.Pixels)
        {
            Check(SpngNative.spng_encode_image(context, pixels, (nuint)image.Pixels.Length, SpngNative.FormatPng, SpngNative.EncodeFinalize), name, "encode");
        }
        nuint length;
        int error;
        byte* buffer = SpngNative.spng_get_png_buffer(context, &length, &error);
        if (buffer == null) Check(error == 0 ? -1 : error, name, "encode");
        try
        {
            return new ReadOnlySpan<byte>(buffer, checked((int)length)).ToArray();
        }
        finally
        {
            // The buffer now belongs to us and comes from C malloc.
            NativeMemory.Free(buffer);
        }
    }

    /// <summary>Writes a PNG atomically: a failed write leaves no file behind.</summary>
    public static void Write(string path, Image image)
    {
        byte[] encoded = Encode(image);
        AtomicFile.Write(path, stream => stream.Write(encoded));
    }

    private static SpngContext Create(int flags, string name)
    {
        SpngContext context;
        try
        {
            context = SpngNative.spng_ctx_new(flags);
        }
        catch (DllNotFoundException e)
        {
            throw new DllNotFoundException($"{name}: {SpngNative.Library} is missing; install the Debian package {SpngNative.Package}", e);
        }
        if (context.IsInvalid)
        {
            context.Dispose();
            throw new OutOfMemoryException($"{name}: libspng could not create a context");
        }
        return context;
    }

    private static void Check(int error, string name, string action)
    {
        if (error != 0) throw new FileFormatException(name, $"cannot {action} PNG: {SpngNative.Describe(error)}");
    }
}
