namespace NativeSeg.Models.Detection.Flavours;

/// <summary>How the mask head's training targets are cut out of the ground-truth masks.</summary>
public enum MaskTargetRule
{
    /// <summary>RoIAlign (aligned=False, adaptive sampling) of the full-image binary mask, left soft (torchvision's project_masks_on_boxes).</summary>
    PooledSoft,

    /// <summary>
    /// Polygons rasterised within the box (PolygonMasks.crop_and_resize); RLE masks pooled with RoIAlign aligned=True
    /// and thresholded at 0.5 (BitMasks.crop_and_resize) — detectron2.
    /// </summary>
    RasterisedPolygons,
}
