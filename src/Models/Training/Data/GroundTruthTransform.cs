using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Models.MaskRcnn;
using NativeSeg.Models.MaskRcnn.Training;

namespace NativeSeg.Models.Training.Data;

/// <summary>Ground truth of one image moved into its resized (and flipped) frame, in the order and precision of each flavour.</summary>
internal static class GroundTruthTransform
{
    public static GroundTruth Apply(IEnumerable<CocoAnnotation> annotations, int height, int width, int newHeight, int newWidth, bool flip, MaskRcnnConfig model) =>
        model.Flavour.ResizesAnnotations
            ? Detectron2(annotations, height, width, newHeight, newWidth, flip, model)
            : Torchvision(annotations, height, width, newHeight, newWidth, flip, model);

    /// <summary>
    /// torchvision's references: ConvertCocoPolysToMask builds float32 boxes and binary masks at the original size,
    /// RandomHorizontalFlip flips both there (W − x2 in float32), then GeneralizedRCNNTransform scales the boxes by
    /// float32 ratios new/old and resizes the masks with "nearest".
    /// </summary>
    private static GroundTruth Torchvision(IEnumerable<CocoAnnotation> annotations, int height, int width, int newHeight, int newWidth, bool flip, MaskRcnnConfig model)
    {
        var original = GroundTruth.FromCoco(annotations, height, width, model);
        var boxes = (float[])original.Boxes.Clone();
        if (flip) HorizontalFlip.Boxes(boxes, width);
        float ratioW = (float)newWidth / width, ratioH = (float)newHeight / height;
        for (int i = 0; i < boxes.Length; i += 4)
        {
            boxes[i] *= ratioW;
            boxes[i + 1] *= ratioH;
            boxes[i + 2] *= ratioW;
            boxes[i + 3] *= ratioH;
        }
        var rles = original.Masks.Select(m => m.ToRle(height, width)).ToList();
        var masks = BinaryMasks.Transform(rles, height, width, newHeight, newWidth, flip, flipFirst: true);
        return new GroundTruth(newHeight, newWidth, boxes, original.Classes, [.. masks.Select(m => new RleSegmentation(m))]);
    }

    /// <summary>
    /// detectron2's transform_instance_annotations: the box corners and polygon points scaled by new/old in double
    /// (ResizeTransform), then mirrored about the new width (HFlipTransform), polygons staying polygons; RLE masks
    /// decoded, resized with nearest sampling and flipped. Clipping and dropping empty boxes happen in the new frame.
    /// detectron2 resizes bitmasks with PIL's NEAREST, which samples at pixel centres; torch's nearest used here
    /// samples at floor(dst · in/out), so an RLE mask's edge can sit one pixel away from detectron2's.
    /// </summary>
    private static GroundTruth Detectron2(IEnumerable<CocoAnnotation> annotations, int height, int width, int newHeight, int newWidth, bool flip, MaskRcnnConfig model)
    {
        double sx = newWidth * 1.0 / width, sy = newHeight * 1.0 / height;
        double X(double x) => flip ? newWidth - x * sx : x * sx;
        var kept = annotations.Where(a => !a.IsCrowd).ToList();
        var rleIndices = new List<int>();
        var moved = new List<CocoAnnotation>(kept.Count);
        foreach (var a in kept)
        {
            var box = a.Box ?? throw new ArgumentException($"annotation {a.Id} has no bbox; training needs one per instance");
            double xa = X(box.X), xb = X(box.X + box.Width), y1 = box.Y * sy, y2 = (box.Y + box.Height) * sy;
            CocoSegmentation? segmentation = a.Segmentation;
            if (segmentation is PolygonSegmentation polygons)
                segmentation = new PolygonSegmentation([.. polygons.Polygons.Select(p => MovePolygon(p, X, sy))]);
            else if (segmentation is RleSegmentation) rleIndices.Add(moved.Count);
            moved.Add(new CocoAnnotation
            {
                Id = a.Id, ImageId = a.ImageId, CategoryId = a.CategoryId, Segmentation = segmentation,
                Box = new CocoBox(Math.Min(xa, xb), y1, Math.Abs(xb - xa), y2 - y1),
            });
        }
        if (rleIndices.Count > 0)
        {
            var rles = rleIndices.Select(i => moved[i].Segmentation!.ToRle(height, width)).ToList();
            var resized = BinaryMasks.Transform(rles, height, width, newHeight, newWidth, flip, flipFirst: false);
            for (int k = 0; k < rleIndices.Count; k++) moved[rleIndices[k]].Segmentation = new RleSegmentation(resized[k]);
        }
        return GroundTruth.FromCoco(moved, newHeight, newWidth, model);
    }

    private static double[] MovePolygon(double[] xy, Func<double, double> x, double sy)
    {
        var result = new double[xy.Length];
        for (int i = 0; i < xy.Length; i += 2)
        {
            result[i] = x(xy[i]);
            result[i + 1] = xy[i + 1] * sy;
        }
        return result;
    }
}
