namespace NativeSeg.Models.Training.Data;

/// <summary>Mirrors row-major pixel data left to right: images (any channel count), binary masks and float planes alike.</summary>
internal static class HorizontalFlip
{
    /// <summary>Reverses the first <paramref name="width"/> pixels of each of <paramref name="rows"/> rows, <paramref name="stride"/> elements apart.</summary>
    public static void Rows<T>(Span<T> data, int rows, int stride, int width, int channels) where T : unmanaged
    {
        for (int y = 0; y < rows; y++)
        {
            var row = data.Slice(y * stride, width * channels);
            for (int left = 0, right = width - 1; left < right; left++, right--)
                for (int c = 0; c < channels; c++)
                    (row[left * channels + c], row[right * channels + c]) = (row[right * channels + c], row[left * channels + c]);
        }
    }

    /// <summary>x1' = W − x2, x2' = W − x1 for (x1, y1, x2, y2) rows, in the arithmetic of the caller's type.</summary>
    public static void Boxes(Span<float> boxes, float width)
    {
        for (int i = 0; i < boxes.Length; i += 4)
            (boxes[i], boxes[i + 2]) = (width - boxes[i + 2], width - boxes[i]);
    }
}
