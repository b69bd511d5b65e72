using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Resampling;

namespace NativeSeg.Models.Training.Data;

/// <summary>Full-image binary masks (row-major 0/1 bytes) moved into the augmented frame.</summary>
internal static class BinaryMasks
{
    /// <summary>
    /// Each mask decoded at <paramref name="height"/> × <paramref name="width"/>, resized with F.interpolate "nearest"
    /// to the new size (torchvision's _resize_image_and_masks), flipped before or after the resize when
    /// <paramref name="flip"/> (nearest sampling is not mirror-symmetric, so the order is the framework's), and
    /// run-length encoded.
    /// </summary>
    public static Rle[] Transform(IReadOnlyList<Rle> masks, int height, int width, int newHeight, int newWidth, bool flip, bool flipFirst)
    {
        if (masks.Count == 0) return [];
        int plane = height * width;
        var values = new float[masks.Count * plane];
        for (int m = 0; m < masks.Count; m++)
        {
            var pixels = masks[m].ToRowMajor();
            if (flip && flipFirst) HorizontalFlip.Rows<byte>(pixels, height, width, width, 1);
            for (int p = 0; p < plane; p++) values[m * plane + p] = pixels[p];
        }
        using var full = Tensor.FromArray(values, masks.Count, 1, height, width);
        using var resized = Resize.Nearest(full, newHeight, newWidth);
        var scaled = resized.AsSpan<float>();
        int newPlane = newHeight * newWidth;
        var result = new Rle[masks.Count];
        var bytes = new byte[newPlane];
        for (int m = 0; m < masks.Count; m++)
        {
            var source = scaled.Slice(m * newPlane, newPlane);
            for (int p = 0; p < newPlane; p++) bytes[p] = source[p] != 0 ? (byte)1 : (byte)0;
            if (flip && !flipFirst) HorizontalFlip.Rows<byte>(bytes, newHeight, newWidth, newWidth, 1);
            result[m] = Rle.FromRowMajor(bytes, newHeight, newWidth);
        }
        return result;
    }
}
