using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Fuzz.Targets;

internal static class CocoMasks
{
    /// <summary>
    /// What evaluation does with a segmentation: its mask on the image, area, box and IoU. A FormatException
    /// from ToRle is the documented refusal, which the evaluator turns into an error naming the annotation.
    /// </summary>
    public static void Use(CocoSegmentation segmentation, int height, int width)
    {
        Rle mask;
        try
        {
            mask = segmentation.ToRle(height, width);
        }
        catch (FormatException)
        {
            return;
        }
        _ = mask.Area;
        _ = mask.ToBox();
        _ = Rle.Iou(mask, mask, crowd: false);
    }
}
