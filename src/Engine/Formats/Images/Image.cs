using NativeSeg.Engine.Tensors;

namespace NativeSeg.Engine.Formats.Images;

/// <summary>
/// An 8-bit image in HWC order: 1 channel (gray), 3 (RGB) or 4 (RGBA). Pixels are row-major with no
/// row padding, so <c>Pixels[(y * Width + x) * Channels + c]</c>.
/// </summary>
public sealed class Image
{
    public Image(int width, int height, int channels, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (width <= 0 || height <= 0) throw new ArgumentException($"image size {width}x{height} must be positive");
        if (channels is not (1 or 3 or 4)) throw new ArgumentException($"image has {channels} channels; expected 1 (gray), 3 (RGB) or 4 (RGBA)");
        if ((long)width * height * channels != pixels.Length)
            throw new ArgumentException($"{pixels.Length} bytes do not fill a {width}x{height} image of {channels} channels");
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    public int Channels { get; }

    public byte[] Pixels { get; }

    /// <summary>A CPU uint8 tensor [H, W, C] holding a copy of the pixels.</summary>
    public Tensor ToTensor() => Tensor.FromArray(Pixels, Height, Width, Channels);

    /// <summary>
    /// The image as 3-channel RGB, as PIL's <c>convert("RGB")</c> does it: gray is replicated and alpha
    /// is dropped without compositing. Returns this instance when it is RGB already.
    /// </summary>
    public Image ToRgb()
    {
        if (Channels == 3) return this;
        int n = Width * Height;
        var rgb = new byte[n * 3];
        for (int i = 0; i < n; i++)
        {
            if (Channels == 1)
            {
                rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = Pixels[i];
            }
            else
            {
                rgb[3 * i] = Pixels[4 * i];
                rgb[3 * i + 1] = Pixels[4 * i + 1];
                rgb[3 * i + 2] = Pixels[4 * i + 2];
            }
        }
        return new Image(Width, Height, 3, rgb);
    }
}

/// <summary>
/// Largest image a reader accepts, checked from the file header before any pixel memory is allocated,
/// so a tiny file claiming a gigapixel image cannot exhaust memory.
/// </summary>
public sealed record ImageLimits(int MaxSide = 16384, long MaxPixels = 100_000_000)
{
    public static ImageLimits Default { get; } = new();

    internal void Check(string name, long width, long height)
    {
        if (width <= 0 || height <= 0)
            throw new FileFormatException(name, $"image size {width}x{height} is empty");
        if (width > MaxSide || height > MaxSide)
            throw new FileFormatException(name, $"image size {width}x{height} exceeds the limit of {MaxSide} pixels per side");
        if (width * height > MaxPixels)
            throw new FileFormatException(name, $"image size {width}x{height} ({width * height} pixels) exceeds the limit of {MaxPixels} pixels");
        if (width * height * 4 > Array.MaxLength)
            throw new FileFormatException(name, $"image size {width}x{height} is too large for one pixel buffer");
    }
}
