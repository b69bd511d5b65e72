using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Formats.Images;
using NativeSeg.Models.Preprocessing;

namespace NativeSeg.Models.Training.Data;

/// <summary>The image half of an augmentation: the inference preprocessing with a flip put where each framework puts it.</summary>
internal static class AugmentedImage
{
    public static PreprocessedImage Build(Image image, PreprocessConfig config, bool flip)
    {
        // Resampling is not exactly mirror-symmetric in floating point, so the order decides the last bits.
        bool flipFirst = config.Flavour.FlipsBeforeResize;
        if (flip && flipFirst)
        {
            var pixels = (byte[])image.Pixels.Clone();
            HorizontalFlip.Rows<byte>(pixels, image.Height, image.Width * image.Channels, image.Width, image.Channels);
            image = new Image(image.Width, image.Height, image.Channels, pixels);
        }
        var result = ImagePreprocessor.Run(image, config, Device.Cpu);
        if (flip && !flipFirst)
        {
            // Normalisation is per pixel, so flipping the normalised image equals normalising the flipped one;
            // only the unpadded part moves, the zero padding stays on the right.
            var data = result.Input.AsSpan<float>();
            int plane = result.PaddedHeight * result.PaddedWidth;
            for (int c = 0; c < result.Input.Shape[1]; c++)
                HorizontalFlip.Rows(data.Slice(c * plane, plane), result.Height, result.PaddedWidth, result.Width, 1);
        }
        return result;
    }
}
