using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Api;

/// <summary>
/// One detected object: its box (x1, y1, x2, y2 in the input image's pixels), its score (the mask score the
/// CLI writes to COCO results: the box score, or MS R-CNN's rescored one), its dataset category id and its mask
/// as COCO run-length encoding of the whole image.
/// </summary>
public sealed record Instance(float X1, float Y1, float X2, float Y2, float Score, long CategoryId, Rle Mask)
{
    /// <summary>The mask as one byte per image pixel, row-major, 1 inside the object and 0 outside.</summary>
    public byte[] MaskPixels() => Mask.ToRowMajor();
}
