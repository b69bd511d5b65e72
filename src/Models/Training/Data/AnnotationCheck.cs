using NativeSeg.Engine.Formats.Coco;

namespace NativeSeg.Models.Training.Data;

/// <summary>What makes an annotation unusable for training, found before training starts.</summary>
internal static class AnnotationCheck
{
    /// <summary>Null when the annotation can be trained on, else what is wrong with it.</summary>
    public static string? Problem(CocoAnnotation a, CocoImage image)
    {
        // Crowd regions are never trained on, so only their shape matters (they may lack a box).
        if (a.Box is { } box)
        {
            if (!double.IsFinite(box.X) || !double.IsFinite(box.Y) || !double.IsFinite(box.Width) || !double.IsFinite(box.Height))
                return $"bbox [{box.X}, {box.Y}, {box.Width}, {box.Height}] has a value that is not a finite number";
            if (box.Width < 0 || box.Height < 0) return $"bbox [{box.X}, {box.Y}, {box.Width}, {box.Height}] has a negative width or height";
        }
        else if (!a.IsCrowd) return "no bbox";
        return a.Segmentation switch
        {
            null => a.IsCrowd ? null : "no segmentation",
            PolygonSegmentation p => PolygonProblem(p),
            RleSegmentation r when r.Mask.Height != image.Height || r.Mask.Width != image.Width =>
                $"RLE mask is {r.Mask.Height}x{r.Mask.Width} (height x width) but image {image.FileName} is {image.Height}x{image.Width}",
            _ => null,
        };
    }

    // Both frameworks need real polygons: detectron2's PolygonMasks rejects fewer than 3 points and box lists.
    private static string? PolygonProblem(PolygonSegmentation p)
    {
        if (p.Polygons.Count == 0) return "segmentation is an empty polygon list";
        for (int i = 0; i < p.Polygons.Count; i++)
        {
            double[] xy = p.Polygons[i];
            if (xy.Length % 2 != 0) return $"polygon {i} has an odd number of coordinates ({xy.Length})";
            if (xy.Length < 6) return $"polygon {i} has {xy.Length / 2} points; a polygon needs at least 3";
            if (xy.Any(v => !double.IsFinite(v))) return $"polygon {i} has a coordinate that is not a finite number";
        }
        return null;
    }
}
