using SkiaSharp;

namespace BenchMaskRcnnOrt;

/// <summary>An image as torchvision's to_tensor gives it: planar RGB floats in [0, 1], [3, H, W].</summary>
internal sealed record RgbImage(int Height, int Width, float[] Planes)
{
    public static RgbImage Read(string path)
    {
        using var bitmap = SKBitmap.Decode(path) ?? throw new InvalidDataException($"{path}: not an image SkiaSharp can decode");
        using var rgba = bitmap.ColorType == SKColorType.Rgba8888 ? null : bitmap.Copy(SKColorType.Rgba8888);
        var source = rgba ?? bitmap;
        int h = source.Height, w = source.Width, plane = h * w;
        var planes = new float[3 * plane];
        var pixels = source.GetPixelSpan();
        for (int i = 0; i < plane; i++)
        {
            planes[i] = pixels[4 * i] / 255f;
            planes[plane + i] = pixels[4 * i + 1] / 255f;
            planes[2 * plane + i] = pixels[4 * i + 2] / 255f;
        }
        return new RgbImage(h, w, planes);
    }
}
