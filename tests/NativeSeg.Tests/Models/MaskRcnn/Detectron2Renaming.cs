using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Models.MaskRcnn;

namespace NativeSeg.Tests.Models.MaskRcnn;

/// <summary>
/// Spec §2.3 for the heads: torchvision's Mask R-CNN head names to detectron2's, and its 91-slot class layout
/// (background first, slot i = COCO id i) to detectron2's 80 contiguous classes with background last.
/// </summary>
internal static class Detectron2Renaming
{
    private static readonly (string From, string To)[] Prefixes =
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

    /// <summary>torchvision slot of detectron2 class j: its COCO id, and background (slot 0) last.</summary>
    public static int[] ClassSlots { get; } = [.. MaskRcnnConfig.Coco80.Select(id => (int)id), 0];

    /// <summary>The renamed, permuted head tensors; new tensors the caller disposes.</summary>
    public static Dictionary<string, Tensor> Heads(IReadOnlyDictionary<string, Tensor> torchvision)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in torchvision)
        {
            var (from, to) = Prefixes.Single(p => name.StartsWith(p.From, StringComparison.Ordinal));
            string target = to + name[from.Length..];
            result.Add(target, from switch
            {
                "roi_heads.box_predictor.cls_score." => Rows(tensor, ClassSlots, 1),
                // detectron2 has no background box regression: 4 rows per foreground class.
                "roi_heads.box_predictor.bbox_pred." => Rows(tensor, ClassSlots[..^1], 4),
                "roi_heads.mask_predictor.mask_fcn_logits." => Rows(tensor, ClassSlots[..^1], 1),
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
