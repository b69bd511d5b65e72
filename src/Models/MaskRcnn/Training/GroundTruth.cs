using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.Detection.Flavours;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// One image's training instances: boxes [N, 4] (x1, y1, x2, y2) in image pixels, each box's class as a
/// classification logit index of the model, and each instance's mask (polygons or RLE) at the image's size.
/// </summary>
public sealed record GroundTruth
{
    public GroundTruth(int height, int width, float[] boxes, int[] classes, IReadOnlyList<CocoSegmentation> masks)
    {
        if (height <= 0 || width <= 0) throw new ArgumentException($"image size {height}x{width} must be positive");
        if (boxes.Length != classes.Length * 4 || masks.Count != classes.Length)
            throw new ArgumentException($"ground truth needs 4 box values, a class and a mask per instance; got {boxes.Length} box values, {classes.Length} classes, {masks.Count} masks");
        (Height, Width, Boxes, Classes, Masks) = (height, width, boxes, classes, masks);
    }

    public int Height { get; }

    public int Width { get; }

    public float[] Boxes { get; }

    public int[] Classes { get; }

    public IReadOnlyList<CocoSegmentation> Masks { get; }

    public int Count => Classes.Length;

    /// <summary>
    /// The instances both flavours train on from COCO annotations of one image: crowd regions dropped
    /// (torchvision's ConvertCocoPolysToMask and detectron2's DatasetMapper both filter iscrowd), the bbox
    /// turned into corners and clipped to the image, and boxes left empty dropped, by the flavour's corner arithmetic
    /// and emptiness rule (<see cref="DetectionFlavour.GroundTruthCorners"/>, <see cref="DetectionFlavour.KeepsGroundTruthBox"/>).
    /// </summary>
    public static GroundTruth FromCoco(IEnumerable<CocoAnnotation> annotations, int height, int width, MaskRcnnConfig model)
    {
        var boxes = new List<float>();
        var classes = new List<int>();
        var masks = new List<CocoSegmentation>();
        var flavour = model.Flavour;
        foreach (var a in annotations)
        {
            if (a.IsCrowd) continue;
            var box = a.Box ?? throw new ArgumentException($"annotation {a.Id} has no bbox; training needs one per instance");
            var mask = a.Segmentation ?? throw new ArgumentException($"annotation {a.Id} has no segmentation; Mask R-CNN training needs one per instance");
            var (x1, y1, x2, y2) = flavour.GroundTruthCorners(box);
            (x1, x2) = (Math.Clamp(x1, 0, width), Math.Clamp(x2, 0, width));
            (y1, y2) = (Math.Clamp(y1, 0, height), Math.Clamp(y2, 0, height));
            if (!flavour.KeepsGroundTruthBox(x1, y1, x2, y2)) continue;
            int logit = Array.IndexOf(model.CategoryIds, a.CategoryId);
            if (logit < 0 || logit == model.BackgroundIndex)
                throw new ArgumentException($"annotation {a.Id} has category {a.CategoryId}, which is not one of the model's classes");
            boxes.AddRange([x1, y1, x2, y2]);
            classes.Add(logit);
            masks.Add(mask);
        }
        return new(height, width, [.. boxes], [.. classes], masks);
    }
}
