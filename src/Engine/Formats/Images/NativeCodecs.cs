using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace NativeSeg.Engine.Formats.Images;

/// <summary>TurboJPEG 2.x entry points (Debian libturbojpeg0; 3.x keeps these for compatibility).</summary>
internal static unsafe partial class TurboJpegNative
{
    public const string Library = "libturbojpeg.so.0";
    public const string Package = "libturbojpeg0";

    public const int PixelFormatRgb = 0;
    public const int PixelFormatGray = 6;
    public const int ColorspaceGray = 2;
    public const int ColorspaceCmyk = 3;
    public const int ColorspaceYcck = 4;
    public const int Subsampling444 = 0;
    public const int SubsamplingGray = 3;

    [LibraryImport(Library)]
    public static partial TurboJpegHandle tjInitDecompress();

    [LibraryImport(Library)]
    public static partial int tjDestroy(nint handle);

    [LibraryImport(Library)]
    public static partial int tjDecompressHeader3(TurboJpegHandle handle, byte* jpeg, CULong size, int* width, int* height, int* subsampling, int* colorspace);

    [LibraryImport(Library)]
    public static partial int tjDecompress2(TurboJpegHandle handle, byte* jpeg, CULong size, byte* destination, int width, int pitch, int height, int pixelFormat, int flags);

    [LibraryImport(Library)]
    public static partial TurboJpegHandle tjInitCompress();

    [LibraryImport(Library)]
    public static partial int tjCompress2(TurboJpegHandle handle, byte* source, int width, int pitch, int height, int pixelFormat, byte** jpeg, CULong* size, int subsampling, int quality, int flags);

    [LibraryImport(Library)]
    public static partial void tjFree(byte* buffer);

    [LibraryImport(Library)]
    public static partial byte* tjGetErrorStr2(TurboJpegHandle handle);

    public static string LastError(TurboJpegHandle handle) => Marshal.PtrToStringUTF8((nint)tjGetErrorStr2(handle)) ?? "unknown error";
}

internal sealed class TurboJpegHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public TurboJpegHandle()
        : base(true)
    {
    }

    protected override bool ReleaseHandle() => TurboJpegNative.tjDestroy(handle) == 0;
}

/// <summary>libspng 0.7 entry points (Debian libspng0).</summary>
internal static unsafe partial class SpngNative
{
    public const string Library = "libspng.so.0";
    public const string Package = "libspng0";

    public const int ContextEncoder = 2;
    public const int FormatRgba8 = 1;
    public const int FormatRgb8 = 4;
    public const int FormatG8 = 64;
    public const int FormatPng = 256;
    public const int EncodeFinalize = 2;
    public const int OptionEncodeToBuffer = 12;
    public const int OptionChunkCountLimit = 11;

    [StructLayout(LayoutKind.Sequential)]
    public struct Ihdr
    {
        public uint Width;
        public uint Height;
        public byte BitDepth;
        public byte ColorType;
        public byte CompressionMethod;
        public byte FilterMethod;
        public byte InterlaceMethod;
    }

    [LibraryImport(Library)]
    public static partial SpngContext spng_ctx_new(int flags);

    [LibraryImport(Library)]
    public static partial void spng_ctx_free(nint context);

    [LibraryImport(Library)]
    public static partial int spng_set_png_buffer(SpngContext context, byte* buffer, nuint size);

    [LibraryImport(Library)]
    public static partial int spng_set_image_limits(SpngContext context, uint width, uint height);

    [LibraryImport(Library)]
    public static partial int spng_set_chunk_limits(SpngContext context, nuint chunkSize, nuint cacheSize);

    [LibraryImport(Library)]
    public static partial int spng_get_ihdr(SpngContext context, Ihdr* ihdr);

    [LibraryImport(Library)]
    public static partial int spng_set_ihdr(SpngContext context, Ihdr* ihdr);

    [LibraryImport(Library)]
    public static partial int spng_decoded_image_size(SpngContext context, int format, nuint* length);

    [LibraryImport(Library)]
    public static partial int spng_decode_image(SpngContext context, byte* output, nuint length, int format, int flags);

    [LibraryImport(Library)]
    public static partial int spng_set_option(SpngContext context, int option, int value);

    [LibraryImport(Library)]
    public static partial int spng_encode_image(SpngContext context, byte* image, nuint length, int format, int flags);

    [LibraryImport(Library)]
    public static partial byte* spng_get_png_buffer(SpngContext context, nuint* length, int* error);

    [LibraryImport(Library)]
    public static partial byte* spng_strerror(int error);

    public static string Describe(int error) => Marshal.PtrToStringUTF8((nint)spng_strerror(error)) ?? $"error {error}";
}

internal sealed class SpngContext : SafeHandleZeroOrMinusOneIsInvalid
{
    public SpngContext()
        : base(true)
    {
    }

    protected override bool ReleaseHandle()
    {
        SpngNative.spng_ctx_free(handle);
        return true;
    }
}
