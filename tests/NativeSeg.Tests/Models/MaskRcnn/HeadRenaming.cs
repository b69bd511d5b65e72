using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// torchvision's Mask R-CNN head tensors under another framework's names and class layout: detectron2's (spec §2.3:
/// 80 contiguous classes with background last, no background box or mask) and maskrcnn-benchmark's (spec §3.4:
/// background first, then the 80 classes, each with its box and mask). torchvision's 91 slots are background and
/// COCO id i at slot i.
/// </summary>
internal static class HeadRenaming
{
    private static readonly (string From, string To)[] Detectron2Prefixes =
    [
        ("rpn.head.conv.0.0.", "proposal_generator.rpn_head.conv."),
        ("rpn.head.cls_logits.", "proposal_generator.rpn_head.objectness_logits."),
        ("rpn.head.bbox_pred.", "proposal_generator.rpn_head.anchor_deltas."),
        ("roi_heads.box_head.fc6.", "roi_heads.box_head.fc1."),
        ("roi_heads.box_head.fc7.", "roi_heads.box_head.fc2."),
        ("roi_heads.box_predictor.cls_score.", "roi_heads.box_predictor.cls_score."),
        ("roi_heads.box_predictor.bbox_pred.", "roi_heads.box_predictor.bbox_pred."),
        ("roi_heads.mask_head.0.0.", "roi_heads.mask_head.mask_fcn1."),
        ("roi_heads.mask_head.1.0.", "roi_heads.mask_head.mask_fcn2."),
        ("roi_heads.mask_head.2.0.", "roi_heads.mask_head.mask_fcn3."),
        ("roi_heads.mask_head.3.0.", "roi_heads.mask_head.mask_fcn4."),
        ("roi_heads.mask_predictor.conv5_mask.", "roi_heads.mask_head.deconv."),
        ("roi_heads.mask_predictor.mask_fcn_logits.", "roi_heads.mask_head.predictor."),
    ];

    private static readonly (string From, string To)[] MaskRcnnBenchmarkPrefixes =
    [
        ("rpn.head.conv.0.0.", "rpn.head.conv."),
        ("rpn.head.cls_logits.", "rpn.head.cls_logits."),
        ("rpn.head.bbox_pred.", "rpn.head.bbox_pred."),
        ("roi_heads.box_head.fc6.", "roi_heads.box.feature_extractor.fc6."),
        ("roi_heads.box_head.fc7.", "roi_heads.box.feature_extractor.fc7."),
        ("roi_heads.box_predictor.cls_score.", "roi_heads.box.predictor.cls_score."),
        ("roi_heads.box_predictor.bbox_pred.", "roi_heads.box.predictor.bbox_pred."),
        ("roi_heads.mask_head.0.0.", "roi_heads.mask.feature_extractor.mask_fcn1."),
        ("roi_heads.mask_head.1.0.", "roi_heads.mask.feature_extractor.mask_fcn2."),
        ("roi_heads.mask_head.2.0.", "roi_heads.mask.feature_extractor.mask_fcn3."),
        ("roi_heads.mask_head.3.0.", "roi_heads.mask.feature_extractor.mask_fcn4."),
        ("roi_heads.mask_predictor.conv5_mask.", "roi_heads.mask.predictor.conv5_mask."),
        ("roi_heads.mask_predictor.mask_fcn_logits.", "roi_heads.mask.predictor.mask_fcn_logits."),
    ];

    /// <summary>torchvision slot of detectron2 class j: its COCO id, and background (slot 0) last.</summary>
    public static int[] Detectron2ClassSlots { get; } = [.. MaskRcnnConfig.Coco80.Select(id => (int)id), 0];

    /// <summary>torchvision slot of maskrcnn-benchmark class j: background (slot 0) first, then the COCO ids.</summary>
    public static int[] MaskRcnnBenchmarkClassSlots { get; } = [0, .. MaskRcnnConfig.Coco80.Select(id => (int)id)];

    /// <summary>The heads renamed and permuted to detectron2's layout; new tensors the caller disposes.</summary>
    public static Dictionary<string, Tensor> Detectron2(IReadOnlyDictionary<string, Tensor> torchvision) =>
        Heads(torchvision, Detectron2Prefixes, Detectron2ClassSlots, Detectron2ClassSlots[..^1]);

    /// <summary>The heads renamed and permuted to maskrcnn-benchmark's layout; new tensors the caller disposes.</summary>
    public static Dictionary<string, Tensor> MaskRcnnBenchmark(IReadOnlyDictionary<string, Tensor> torchvision) =>
        Heads(torchvision, MaskRcnnBenchmarkPrefixes, MaskRcnnBenchmarkClassSlots, MaskRcnnBenchmarkClassSlots);

    /// <param name="scoreSlots">The torchvision slot of each classifier logit.</param>
    /// <param name="boxSlots">The torchvision slot of each class with a box regression and a mask.</param>
    private static Dictionary<string, Tensor> Heads(IReadOnlyDictionary<string, Tensor> torchvision, (string From, string To)[] prefixes, int[] scoreSlots, int[] boxSlots)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in torchvision)
        {
            var (from, to) = prefixes.Single(p => name.StartsWith(p.From, StringComparison.Ordinal));
            string target = to + name[from.Length..];
            result.Add(target, from switch
            {
                "roi_heads.box_predictor.cls_score." => Rows(tensor, scoreSlots, 1),
                "roi_heads.box_predictor.bbox_pred." => Rows(tensor, boxSlots, 4),
                "roi_heads.mask_predictor.mask_fcn_logits." => Rows(tensor, boxSlots, 1),
                _ => Rows(tensor, Enumerable.Range(0, tensor.Shape[0]).ToArray(), 1),
            });
        }
        return result;
    }

    /// <summary>Groups of <paramref name="group"/> leading-axis rows, taken in the order of <paramref name="slots"/>.</summary>
    private static Tensor Rows(Tensor source, int[] slots, int group)
    {
        int rowSize = (int)(source.Shape.Numel / source.Shape[0]) * group;
        var dims = source.Shape.ToArray();
        dims[0] = slots.Length * group;
        var result = Tensor.Empty(Device.Cpu, DType.Float32, dims);
        var from = source.AsSpan<float>();
        var to = result.AsSpan<float>();
        for (int j = 0; j < slots.Length; j++) from.Slice(slots[j] * rowSize, rowSize).CopyTo(to.Slice(j * rowSize, rowSize));
        return result;
    }
}
