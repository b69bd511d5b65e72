namespace NativeSeg.Models.Preprocessing;

/// <summary>
/// The test-time "shortest edge to <c>minSize</c>, longest at most <c>maxSize</c>" output size, as each
/// framework rounds it; they disagree by a pixel on common COCO sizes (480×640 → 800×1067, 800×1066, 800×1066).
/// </summary>
public static class ResizeRules
{
    /// <summary>detectron2's ResizeShortestEdge.get_output_shape: doubles, rounded half up at the end.</summary>
    public static (int Height, int Width) Detectron2(int height, int width, int minSize, int maxSize)
    {
        double size = minSize, scale = size / Math.Min(height, width);
        var (newH, newW) = height < width ? (size, scale * width) : (scale * height, size);
        if (Math.Max(newH, newW) > maxSize)
        {
            scale = maxSize * 1.0 / Math.Max(newH, newW);
            newH *= scale;
            newW *= scale;
        }
        return ((int)(newH + 0.5), (int)(newW + 0.5));
    }

    /// <summary>
    /// torchvision 0.14's GeneralizedRCNNTransform: one scale from float32 tensors, then F.interpolate's
    /// recompute_scale_factor size floor(dim · scale) in double (375×500 → 799×1066).
    /// </summary>
    public static (int Height, int Width) Torchvision(int height, int width, int minSize, int maxSize) =>
        (TorchvisionOutput(height, TorchvisionScale(height, width, minSize, maxSize)), TorchvisionOutput(width, TorchvisionScale(height, width, minSize, maxSize)));

    /// <summary>
    /// torch.min(min_size / short, max_size / long) as a double (scale.item()). A Python number divided by a
    /// float32 tensor is evaluated as tensor.reciprocal() * number, two float32 roundings: 1/480·800 rounds up
    /// to 1.6666667 where 800/480 would round down, which is why 480×640 gives 800 rows and 375×500 799.
    /// </summary>
    public static double TorchvisionScale(int height, int width, int minSize, int maxSize)
    {
        float shortSide = Math.Min(height, width), longSide = Math.Max(height, width);
        return Math.Min(1f / shortSide * minSize, 1f / longSide * maxSize);
    }

    private static int TorchvisionOutput(int size, double scale) => (int)Math.Floor(size * scale);

    /// <summary>
    /// maskrcnn-benchmark's Resize.get_size: the short side shrinks to round(max · short / long) (Python's
    /// round, half to even) when the long side would exceed the maximum; the long side is truncated.
    /// </summary>
    public static (int Height, int Width) MaskRcnnBenchmark(int height, int width, int minSize, int maxSize)
    {
        int size = minSize;
        double shortSide = Math.Min(width, height), longSide = Math.Max(width, height);
        if (longSide / shortSide * size > maxSize) size = (int)Math.Round(maxSize * shortSide / longSide, MidpointRounding.ToEven);
        if ((width <= height && width == size) || (height <= width && height == size)) return (height, width);
        return width < height ? ((int)(size * (double)height / width), size) : (size, (int)(size * (double)width / height));
    }
}
