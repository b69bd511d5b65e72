using NativeSeg.Models.Detection;

namespace NativeSeg.Models.MaskRcnn;

/// <summary>
/// Checkpoint names (without ".weight"/".bias") of the heads in each flavour's own layout, as the backbone's
/// BackboneNames does for the trunk, so a converted checkpoint keeps its upstream names.
/// </summary>
public sealed record HeadNames(
    string RpnConv, string RpnLogits, string RpnDeltas,
    string BoxFc1, string BoxFc2, string ClassScore, string BoxDeltas,
    Func<int, string> MaskConv, string MaskDeconv, string MaskPredictor,
    Func<int, string> MaskIouConv, string MaskIouFc1, string MaskIouFc2, string MaskIou)
{
    /// <summary>detectron2's and torchvision's mask head module, which BCNet's Faster R-CNN port fills with the bilayer head.</summary>
    public const string MaskHeadModule = "roi_heads.mask_head.";

    private const string Iou = "roi_heads.maskiou.";

    public static HeadNames For(RcnnFlavor flavor) => flavor switch
    {
        RcnnFlavor.Detectron2 => new(
            "proposal_generator.rpn_head.conv", "proposal_generator.rpn_head.objectness_logits", "proposal_generator.rpn_head.anchor_deltas",
            "roi_heads.box_head.fc1", "roi_heads.box_head.fc2", "roi_heads.box_predictor.cls_score", "roi_heads.box_predictor.bbox_pred",
            i => $"{MaskHeadModule}mask_fcn{i}", MaskHeadModule + "deconv", MaskHeadModule + "predictor",
            MaskIouConvName, Iou + "feature_extractor.maskiou_fc1", Iou + "feature_extractor.maskiou_fc2", Iou + "predictor.maskiou"),
        RcnnFlavor.Torchvision => new(
            "rpn.head.conv.0.0", "rpn.head.cls_logits", "rpn.head.bbox_pred",
            "roi_heads.box_head.fc6", "roi_heads.box_head.fc7", "roi_heads.box_predictor.cls_score", "roi_heads.box_predictor.bbox_pred",
            i => $"roi_heads.mask_head.{i - 1}.0", "roi_heads.mask_predictor.conv5_mask", "roi_heads.mask_predictor.mask_fcn_logits",
            MaskIouConvName, Iou + "feature_extractor.maskiou_fc1", Iou + "feature_extractor.maskiou_fc2", Iou + "predictor.maskiou"),
        _ => new(
            "rpn.head.conv", "rpn.head.cls_logits", "rpn.head.bbox_pred",
            "roi_heads.box.feature_extractor.fc6", "roi_heads.box.feature_extractor.fc7", "roi_heads.box.predictor.cls_score", "roi_heads.box.predictor.bbox_pred",
            i => $"roi_heads.mask.feature_extractor.mask_fcn{i}", "roi_heads.mask.predictor.conv5_mask", "roi_heads.mask.predictor.mask_fcn_logits",
            MaskIouConvName, Iou + "feature_extractor.maskiou_fc1", Iou + "feature_extractor.maskiou_fc2", Iou + "predictor.maskiou"),
    };

    // MS R-CNN's names (spec §3.4); the other flavours have no MaskIoU head of their own.
    private static string MaskIouConvName(int i) => $"{Iou}feature_extractor.maskiou_fcn{i}";
}
