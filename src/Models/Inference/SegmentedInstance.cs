using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Models.Inference;

/// <summary>
/// One detected instance in the user's image: box (x1, y1, x2, y2), box score, mask score (the box score
/// unless a MaskIoU head rescored it), dataset category id and binary mask.
/// </summary>
public sealed record SegmentedInstance(float X1, float Y1, float X2, float Y2, float Score, float MaskScore, long CategoryId, Rle Mask);
