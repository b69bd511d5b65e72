using NativeSeg.Cli.Rendering;
using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Inference;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Tests.Cli.Rendering;

/// <summary>What `segment`'s overlays show, read back from their pixels on a plain grey image.</summary>
public class OverlayTests
{
    private const int Width = 200, Height = 120, Grey = 128;

    private static Image GreyImage() => new(Width, Height, 3, Enumerable.Repeat((byte)Grey, Width * Height * 3).ToArray());

    /// <summary>A disc of radius r at (cx, cy) with its tight box.</summary>
    private static SegmentedInstance Disc(int cx, int cy, int r, long category, float score)
    {
        var mask = new byte[Width * Height];
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r) mask[y * Width + x] = 1;
        return new SegmentedInstance(cx - r, cy - r, cx + r + 1, cy + r + 1, score, score, category, Rle.FromRowMajor(mask, Height, Width));
    }

    private static (byte, byte, byte) Pixel(Image image, int x, int y)
    {
        int p = (y * image.Width + x) * 3;
        return (image.Pixels[p], image.Pixels[p + 1], image.Pixels[p + 2]);
    }

    [Fact]
    public void InstancesOfOneCategoryShareAColourAndOtherCategoriesDiffer()
    {
        var overlay = Overlay.Draw(GreyImage(), [Disc(40, 70, 15, 1, 0.9f), Disc(100, 70, 15, 1, 0.8f), Disc(160, 70, 15, 3, 0.9f)], null, 0.5f);

        var first = Pixel(overlay, 40, 70);
        Assert.NotEqual((Grey, Grey, Grey), ((int)first.Item1, (int)first.Item2, (int)first.Item3));
        Assert.Equal(first, Pixel(overlay, 100, 70));
        Assert.NotEqual(first, Pixel(overlay, 160, 70));
    }

    [Fact]
    public void EveryCocoCategoryHasItsOwnColour()
    {
        var colours = MaskRcnnConfig.Coco80.Select(CategoryColors.Of).ToList();

        Assert.Equal(colours.Count, colours.Distinct().Count());
        Assert.Equal(colours, MaskRcnnConfig.Coco80.Select(CategoryColors.Of));
    }

    [Fact]
    public void InstancesBelowTheDrawThresholdAreNotDrawn()
    {
        var image = GreyImage();
        SegmentedInstance[] instances = [Disc(60, 70, 20, 1, 0.3f), Disc(140, 70, 20, 2, 0.7f)];

        var overlay = Overlay.Draw(image, instances, null, 0.5f);
        var all = Overlay.Draw(image, instances, null, 0.2f);

        Assert.Equal(((byte)Grey, (byte)Grey, (byte)Grey), Pixel(overlay, 60, 70));
        Assert.NotEqual(((byte)Grey, (byte)Grey, (byte)Grey), Pixel(overlay, 140, 70));
        Assert.NotEqual(((byte)Grey, (byte)Grey, (byte)Grey), Pixel(all, 60, 70));
        Assert.Equal(image.Pixels, Overlay.Draw(image, instances, null, 0.8f).Pixels);
    }

    [Fact]
    public void MaskOutlinesAreAntialiased()
    {
        var overlay = Overlay.Draw(GreyImage(), [Disc(100, 70, 30, 1, 0.9f)], null, 0.5f);

        // Along the disc's diagonal edge, away from its box and label: a pixel-exact outline would give three
        // colours (grey, fill, outline); partial coverage gives the shades between.
        var shades = new HashSet<(byte, byte, byte)>();
        for (int y = 82; y < 100; y++)
            for (int x = 112; x < 130; x++)
                shades.Add(Pixel(overlay, x, y));
        Assert.True(shades.Count > 6, $"{shades.Count} colours where the outline crosses the diagonal");
    }

    [Fact]
    public void GrayAndRgbaImagesComeBackAsRgbOfTheirSize()
    {
        var gray = new Image(Width, Height, 1, Enumerable.Repeat((byte)Grey, Width * Height).ToArray());

        var overlay = Overlay.Draw(gray, [Disc(100, 70, 20, 1, 0.9f)], null, 0.5f);

        Assert.Equal((Width, Height, 3), (overlay.Width, overlay.Height, overlay.Channels));
        Assert.Equal(((byte)Grey, (byte)Grey, (byte)Grey), Pixel(overlay, 5, 115));
    }
}
