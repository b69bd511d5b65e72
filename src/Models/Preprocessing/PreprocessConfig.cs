using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// An input pipeline: the flavour's resize rule, pixel units and order of operations with these statistics.
/// <see cref="PixelMean"/> and <see cref="PixelStd"/> are in the network's channel order (<see cref="Bgr"/>) and in
/// the units the flavour normalises (0..255, or 0..1 for torchvision).
/// </summary>
public sealed record PreprocessConfig(DetectionFlavour Flavour, float[] PixelMean, float[] PixelStd, bool Bgr,
    int MinSize = 800, int MaxSize = 1333, int SizeDivisibility = 32)
{
    /// <summary>The flavour's defaults: its pixel statistics and channel order, the COCO test sizes.</summary>
    public static PreprocessConfig For(DetectionFlavour flavour) => new(flavour, [.. flavour.PixelMean], [.. flavour.PixelStd], flavour.Bgr);

    /// <summary>The resized (unpadded) size for an image of the given size.</summary>
    public (int Height, int Width) ResizedSize(int height, int width) => Flavour.ResizedSize(height, width, MinSize, MaxSize);
}
