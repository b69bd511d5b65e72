namespace NativeSeg.Models.Detection.Flavours;

/// <summary>
/// Checkpoint names (without ".weight"/".bias") of the R-CNN heads in one flavour's own layout, as the backbone's
/// BackboneNames does for the trunk, so a converted checkpoint keeps its upstream names. Each flavour gives its own
/// (<see cref="DetectionFlavour.HeadNames"/>); the MaskIoU head's are MS R-CNN's (spec §3.4) in every flavour, as
/// only maskrcnn-benchmark's fork has one.
/// </summary>
public sealed record HeadNames(
    string RpnConv, string RpnLogits, string RpnDeltas,
    string BoxFc1, string BoxFc2, string ClassScore, string BoxDeltas,
    Func<int, string> MaskConv, string MaskDeconv, string MaskPredictor)
{
    /// <summary>detectron2's and torchvision's mask head module, which BCNet's Faster R-CNN port fills with the bilayer head.</summary>
    public const string MaskHeadModule = "roi_heads.mask_head.";

    private const string Iou = "roi_heads.maskiou.";

    public string MaskIouFc1 => Iou + "feature_extractor.maskiou_fc1";

    public string MaskIouFc2 => Iou + "feature_extractor.maskiou_fc2";

    public string MaskIou => Iou + "predictor.maskiou";

    public string MaskIouConv(int i) => $"{Iou}feature_extractor.maskiou_fcn{i}";
}
