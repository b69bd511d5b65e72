using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Synthetic;
using NativeSeg.Tests.Formats;

namespace NativeSeg.Tests.Native;

/// <summary>A synthetic image of the shapes the default model knows (a seed it never trained on), as a PNG.</summary>
internal static class ShapesImage
{
    public static string Write(TempFolder temp, out Image image)
    {
        var generated = SyntheticDataset.Generate(new SyntheticOptions(1, 200, 160, 6, 6, Seed: 777), 0);
        image = new Image(200, 160, 3, generated.Rgb);
        string png = temp.File("shapes.png");
        Png.Write(png, image);
        return png;
    }
}
