using NativeSeg.Engine.Formats.Coco;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.RoiAlign;
using NativeSeg.Models.Detection.Flavours;
using RoiAlignOp = NativeSeg.Kernels.RoiAlign.RoiAlign;

namespace NativeSeg.Models.MaskRcnn.Training;

/// <summary>
/// Mask-head targets: each foreground RoI's matched GT mask cut out by the RoI and resized to size × size,
/// by the flavour's <see cref="MaskTargetRule"/>.
/// <list type="bullet">
/// <item><see cref="MaskTargetRule.PooledSoft"/>, torchvision (project_masks_on_boxes): RoIAlign of the full-image binary mask, aligned=False, adaptive
/// sampling; the averaged values stay soft (its BCE takes float targets).</item>
/// <item><see cref="MaskTargetRule.RasterisedPolygons"/>, detectron2, polygon GT (PolygonMasks.crop_and_resize): polygons shifted to the box, scaled by
/// size / max(side, 0.1) in double, rasterised at size × size the pycocotools way; binary.</item>
/// <item>detectron2, RLE GT (BitMasks.crop_and_resize): RoIAlign aligned=True, adaptive sampling, then ≥ 0.5.</item>
/// </list>
/// </summary>
public static class MaskTargets
{
    /// <summary>float32 values [R, size, size] for RoIs <paramref name="boxes"/> [R, 4] matched to GT <paramref name="matchedGt"/> [R].</summary>
    public static float[] Build(GroundTruth gt, float[] boxes, int[] matchedGt, MaskTargetRule rule, int size)
    {
        if (boxes.Length != matchedGt.Length * 4) throw new ArgumentException($"{boxes.Length} box values for {matchedGt.Length} matched GT indices; boxes must be [R, 4]");
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), size, "the mask size must be positive");
        foreach (int g in matchedGt)
            if (g < 0 || g >= gt.Count) throw new ArgumentException($"matched GT index {g} is outside the image's {gt.Count} instances", nameof(matchedGt));
        if (matchedGt.Length == 0) return [];
        if (rule == MaskTargetRule.PooledSoft) return Pool(gt, boxes, matchedGt, size, aligned: false, threshold: false);

        var targets = new float[matchedGt.Length * size * size];
        var bitmaskRows = new List<int>();
        for (int r = 0; r < matchedGt.Length; r++)
        {
            if (gt.Masks[matchedGt[r]] is PolygonSegmentation polygons)
                RasterizeWithinBox(polygons, boxes.AsSpan(r * 4, 4), size).CopyTo(targets.AsSpan(r * size * size, size * size));
            else
                bitmaskRows.Add(r);
        }
        if (bitmaskRows.Count > 0)
        {
            var pooled = Pool(gt, HostBoxes.Gather(boxes, [.. bitmaskRows]), [.. bitmaskRows.Select(r => matchedGt[r])], size, aligned: true, threshold: true);
            for (int k = 0; k < bitmaskRows.Count; k++)
                pooled.AsSpan(k * size * size, size * size).CopyTo(targets.AsSpan(bitmaskRows[k] * size * size));
        }
        return targets;
    }

    /// <summary>RoIAlign (spatial scale 1, adaptive sampling) over full-image masks of the GTs the RoIs use.</summary>
    private static float[] Pool(GroundTruth gt, float[] boxes, int[] matchedGt, int size, bool aligned, bool threshold)
    {
        // Only the GTs some RoI uses are rasterised; the RoI's batch index points at its GT's slot.
        int[] used = [.. matchedGt.Distinct().Order()];
        int plane = gt.Height * gt.Width;
        var masks = new float[used.Length * plane];
        for (int u = 0; u < used.Length; u++)
        {
            var pixels = gt.Masks[used[u]].ToRle(gt.Height, gt.Width).ToRowMajor();
            if (pixels.Length != plane) throw new ArgumentException($"GT mask {used[u]} is not {gt.Height}x{gt.Width}, the image's size");
            for (int p = 0; p < plane; p++) masks[u * plane + p] = pixels[p];
        }
        var rois = new float[matchedGt.Length * 5];
        for (int r = 0; r < matchedGt.Length; r++)
        {
            rois[r * 5] = Array.BinarySearch(used, matchedGt[r]);
            boxes.AsSpan(r * 4, 4).CopyTo(rois.AsSpan(r * 5 + 1, 4));
        }
        using var features = Tensor.FromArray(masks, used.Length, 1, gt.Height, gt.Width);
        using var roiTensor = Tensor.FromArray(rois, matchedGt.Length, 5);
        using var levels = Tensor.Zeros(new Shape(matchedGt.Length), DType.Int32, features.Device);
        using var pooled = RoiAlignOp.Forward([features], [1f], roiTensor, levels, new RoiAlignOptions(size, size, 0, aligned));
        var values = pooled.ToArray<float>();
        if (threshold)
            for (int i = 0; i < values.Length; i++) values[i] = values[i] >= 0.5f ? 1f : 0f;
        return values;
    }

    /// <summary>detectron2's rasterize_polygons_within_box, with its float32 box and float64 polygon arithmetic.</summary>
    private static float[] RasterizeWithinBox(PolygonSegmentation segmentation, ReadOnlySpan<float> box, int size)
    {
        if (segmentation.IsBoxList || segmentation.Polygons.Count == 0)
            throw new ArgumentException("detectron2 mask targets need polygons of at least three points (PolygonMasks rejects box lists and empty lists)");
        double ratioW = size / Math.Max((double)(box[2] - box[0]), 0.1);
        double ratioH = size / Math.Max((double)(box[3] - box[1]), 0.1);
        var parts = new List<Rle>(segmentation.Polygons.Count);
        foreach (double[] polygon in segmentation.Polygons)
        {
            var xy = new double[polygon.Length];
            for (int i = 0; i < polygon.Length; i += 2)
            {
                xy[i] = (polygon[i] - box[0]) * ratioW;
                xy[i + 1] = (polygon[i + 1] - box[1]) * ratioH;
            }
            parts.Add(Rle.FromPolygon(xy, size, size));
        }
        var pixels = Rle.Merge(parts).ToRowMajor();
        return [.. pixels.Select(p => (float)p)];
    }
}
