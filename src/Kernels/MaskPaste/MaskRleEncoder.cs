using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;

namespace NativeSeg.Kernels.MaskPaste;

/// <summary>
/// Pastes masks into an image and run-length encodes them a bounded number of pasted bytes at a time, so a
/// large image with many instances never holds more than one chunk of pixels (or one mask's region, when
/// that alone is larger) besides the RLEs themselves.
/// </summary>
public static class MaskRleEncoder
{
    /// <summary>Pasted bytes per chunk: large enough that a chunk of ordinary boxes is one launch.</summary>
    public const long DefaultChunkBytes = 32L << 20;

    /// <param name="masks">Probabilities [R, M, M] (float32).</param>
    /// <param name="boxes">[R, 4] (x1, y1, x2, y2) in output-image pixels, on the masks' device.</param>
    public static Rle[] Encode(Tensor masks, Tensor boxes, int imageHeight, int imageWidth, PasteMethod method,
        float threshold = 0.5f, long chunkBytes = DefaultChunkBytes)
    {
        if (chunkBytes < 1) throw new ArgumentOutOfRangeException(nameof(chunkBytes), $"chunk of {chunkBytes} bytes must be positive");
        var regions = MaskPaste.Regions(boxes, masks.Shape[masks.Rank - 1], imageHeight, imageWidth, method);
        var rles = new Rle[regions.Length];
        for (int start = 0; start < regions.Length;)
        {
            int end = start + 1;
            long bytes = regions[start].Area;
            while (end < regions.Length && bytes + regions[end].Area <= chunkBytes) bytes += regions[end++].Area;
            using var chunkMasks = masks.Slice(start, end - start);
            using var chunkBoxes = boxes.Slice(start, end - start);
            using var pasted = MaskPaste.Paste(chunkMasks, chunkBoxes, imageHeight, imageWidth, method, threshold);
            pasted.Encode().CopyTo(rles, start);
            start = end;
        }
        return rles;
    }
}
