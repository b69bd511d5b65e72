"""Writes tests/reference/fixtures/training_targets.safetensors: torch 1.13 / torchvision 0.14 references for
Mask R-CNN training targets (box encoding, IoU, anchor and proposal matching, sampling, mask targets).

Run with /usr/bin/python3 (Debian's torch). Inputs are stored next to the outputs. torch's randperm cannot be
reproduced in C#, so the indices torchvision's sampler drew are stored and the C# tests feed them back.
detectron2 is not installed; its rules that differ from torchvision's are reimplemented below from
detectron2's modeling/matcher.py and structures/boxes.py (pairwise_iou), citing the lines they follow.
"""
import math
import os

import numpy as np
import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.roi_heads import RoIHeads, project_masks_on_boxes
from torchvision.models.detection.rpn import RegionProposalNetwork
from torchvision.ops import box_iou, roi_align

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

H, W = 96, 128
SEED = 20240611
MASK_ROIS = 40  # of the 128 foreground RoIs: enough for every GT, small enough to keep the file light


def gt_instances():
    """Integer-cornered boxes (so grid anchors tie exactly), one of them duplicated, with ellipse masks."""
    boxes = torch.tensor([
        [10, 12, 42, 44],
        [10, 12, 42, 44],   # duplicate: every anchor ties between the two GTs
        [60, 20, 116, 52],
        [30, 50, 70, 90],
        [100, 70, 124, 94],
        [0, 0, 9, 7],
    ], dtype=torch.float32)
    labels = torch.tensor([3, 5, 1, 2, 7, 4], dtype=torch.int64)
    ys, xs = np.mgrid[0:H, 0:W]
    masks = []
    for x1, y1, x2, y2 in boxes.tolist():
        cx, cy, rx, ry = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1) / 2, (y2 - y1) / 2
        masks.append((((xs + 0.5 - cx) / rx) ** 2 + ((ys + 0.5 - cy) / ry) ** 2 <= 1.0).astype(np.uint8))
    return boxes, labels, torch.from_numpy(np.stack(masks))


def grid_anchors():
    """Anchors of sizes 16/32/64 and ratios 0.5/1/2 on a stride-8 grid, many crossing the image border."""
    cells = []
    for size in (16, 32, 64):
        for ratio in (0.5, 1.0, 2.0):
            w = round(size / math.sqrt(ratio))
            h = round(size * math.sqrt(ratio))
            cells.append([-w / 2, -h / 2, w / 2, h / 2])
    cells = torch.tensor(cells, dtype=torch.float32)
    ys, xs = torch.meshgrid(torch.arange(0, H, 8.0), torch.arange(0, W, 8.0), indexing="ij")
    shifts = torch.stack([xs.flatten(), ys.flatten(), xs.flatten(), ys.flatten()], dim=1)
    return (shifts[:, None, :] + cells[None, :, :]).reshape(-1, 4)


def jittered_proposals(g, gt, n):
    """Proposals around the GT boxes (so IoUs straddle 0.5) plus random ones, clipped to the image."""
    centre = gt[torch.randint(0, len(gt), (n,), generator=g)]
    wh = (centre[:, 2:] - centre[:, :2]).repeat(1, 2)
    boxes = centre + (torch.rand(n, 4, generator=g) - 0.5) * 0.6 * wh
    rand_xy = torch.rand(n // 3, 2, generator=g) * torch.tensor([W - 10.0, H - 10.0])
    rand = torch.cat([rand_xy, rand_xy + 4 + torch.rand(n // 3, 2, generator=g) * 40], dim=1)
    boxes = torch.cat([boxes, rand])
    boxes[:, 0::2] = boxes[:, 0::2].clamp(0, W)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(0, H)
    return boxes


def d2_pairwise_iou(boxes1, boxes2):
    """detectron2 structures/boxes.py pairwise_iou: 0 where the intersection is not positive."""
    area1 = (boxes1[:, 2] - boxes1[:, 0]) * (boxes1[:, 3] - boxes1[:, 1])
    area2 = (boxes2[:, 2] - boxes2[:, 0]) * (boxes2[:, 3] - boxes2[:, 1])
    wh = torch.min(boxes1[:, None, 2:], boxes2[:, 2:]) - torch.max(boxes1[:, None, :2], boxes2[:, :2])
    inter = wh.clamp(min=0).prod(dim=2)
    return torch.where(inter > 0, inter / (area1[:, None] + area2 - inter), torch.zeros(1, dtype=inter.dtype))


def d2_match(quality, thresholds, labels, allow_low_quality):
    """detectron2 modeling/matcher.py Matcher.__call__ and set_low_quality_matches_."""
    thresholds = [-float("inf")] + thresholds + [float("inf")]
    if quality.numel() == 0:
        return (torch.zeros(quality.shape[1], dtype=torch.int64), torch.full((quality.shape[1],), labels[0], dtype=torch.int8))
    matched_vals, matches = quality.max(dim=0)
    match_labels = torch.ones(matches.shape, dtype=torch.int8)
    for label, low, high in zip(labels, thresholds[:-1], thresholds[1:]):
        match_labels[(matched_vals >= low) & (matched_vals < high)] = label
    if allow_low_quality:
        highest, _ = quality.max(dim=1)
        _, preds = torch.nonzero(quality == highest[:, None], as_tuple=True)
        match_labels[preds] = 1
    return matches, match_labels


def iou_cases(g):
    """Boxes with zero-area and duplicate entries: torchvision gives NaN for two zero-area boxes, detectron2 0."""
    xy = torch.rand(9, 2, generator=g) * 40
    wh = torch.rand(9, 2, generator=g) * 30
    wh[2, 0] = 0.0
    wh[6] = 0.0
    boxes1 = torch.cat([xy, xy + wh], dim=1)
    xy2 = torch.rand(23, 2, generator=g) * 40
    wh2 = torch.rand(23, 2, generator=g) * 30
    wh2[4, 1] = 0.0
    boxes2 = torch.cat([xy2, xy2 + wh2], dim=1)
    boxes2[7] = boxes1[3]
    boxes2[11] = boxes1[6]
    return boxes1, boxes2


def main():
    g = torch.Generator().manual_seed(SEED)
    out = {}

    gt_boxes, gt_labels, gt_masks = gt_instances()
    out["gt.boxes"], out["gt.labels"], out["gt.masks"] = gt_boxes, gt_labels, gt_masks

    # --- BoxCoder.encode_single ----------------------------------------------------------------------
    refs = torch.rand(200, 2, generator=g) * 100
    refs = torch.cat([refs, refs + 1 + torch.rand(200, 2, generator=g) * 80], dim=1)
    targets = refs + (torch.rand(200, 4, generator=g) - 0.5) * 40
    targets[:, 2:] = torch.max(targets[:, 2:], targets[:, :2] + 0.5)
    out["encode.references"], out["encode.targets"] = refs, targets
    out["encode.rpn"] = det_utils.BoxCoder((1.0, 1.0, 1.0, 1.0)).encode_single(targets, refs)
    out["encode.roi_heads"] = det_utils.BoxCoder((10.0, 10.0, 5.0, 5.0)).encode_single(targets, refs)

    # --- IoU -----------------------------------------------------------------------------------------
    boxes1, boxes2 = iou_cases(g)
    out["iou.boxes1"], out["iou.boxes2"] = boxes1, boxes2
    out["iou.torchvision"] = box_iou(boxes1, boxes2)
    out["iou.detectron2"] = d2_pairwise_iou(boxes1, boxes2)

    # --- RPN: assign_targets_to_anchors, fg_bg_sampler -----------------------------------------------
    anchors = grid_anchors()
    out["rpn.anchors"] = anchors
    rpn = RegionProposalNetwork(None, None, 0.7, 0.3, 256, 0.5, dict(training=2000, testing=1000), dict(training=2000, testing=1000), 0.7)
    matched = rpn.proposal_matcher(box_iou(gt_boxes, anchors))
    labels, matched_gt = rpn.assign_targets_to_anchors([anchors], [{"boxes": gt_boxes}])
    out["rpn.matched_idxs"] = matched
    out["rpn.labels"] = labels[0]
    out["rpn.regression"] = rpn.box_coder.encode([matched_gt[0]], [anchors])[0]
    torch.manual_seed(SEED)
    pos, neg = rpn.fg_bg_sampler(labels)
    out["rpn.sampled_pos"] = torch.where(pos[0])[0]
    out["rpn.sampled_neg"] = torch.where(neg[0])[0]
    d2_matches, d2_labels = d2_match(d2_pairwise_iou(gt_boxes, anchors), [0.3, 0.7], [0, -1, 1], True)
    out["rpn.d2_matches"], out["rpn.d2_labels"] = d2_matches, d2_labels.to(torch.int32)

    # --- RoI heads: add_gt_proposals, assign_targets_to_proposals, select_training_samples -----------
    proposals = jittered_proposals(g, gt_boxes, 900)
    out["roi.proposals"] = proposals
    heads = RoIHeads(None, None, None, 0.5, 0.5, 512, 0.25, None, 0.05, 0.5, 100)
    with_gt = heads.add_gt_proposals([proposals], [gt_boxes])
    matched_idxs, roi_labels = heads.assign_targets_to_proposals(with_gt, [gt_boxes], [gt_labels])
    out["roi.matched_idxs"] = heads.proposal_matcher(box_iou(gt_boxes, with_gt[0]))
    out["roi.labels"] = roi_labels[0]
    torch.manual_seed(SEED + 1)
    pos, neg = heads.fg_bg_sampler(roi_labels)
    out["roi.sampled_pos"] = torch.where(pos[0])[0]
    out["roi.sampled_neg"] = torch.where(neg[0])[0]
    torch.manual_seed(SEED + 1)
    sampled, s_matched, s_labels, s_regression = heads.select_training_samples([proposals], [{"boxes": gt_boxes, "labels": gt_labels}])
    out["roi.out.proposals"], out["roi.out.matched_idxs"] = sampled[0], s_matched[0]
    out["roi.out.labels"], out["roi.out.regression"] = s_labels[0], s_regression[0]
    _, d2_roi_labels = d2_match(d2_pairwise_iou(gt_boxes, with_gt[0]), [0.5], [0, 1], False)
    out["roi.d2_labels"] = d2_roi_labels.to(torch.int32)

    # --- Mask targets ---------------------------------------------------------------------------------
    fg = torch.where(s_labels[0] > 0)[0][:MASK_ROIS]
    fg_boxes, fg_matched = sampled[0][fg], s_matched[0][fg]
    out["mask.boxes"], out["mask.matched"] = fg_boxes, fg_matched
    out["mask.torchvision"] = project_masks_on_boxes(gt_masks, fg_boxes, fg_matched, 28)
    # detectron2 structures/masks.py BitMasks.crop_and_resize: ROIAlign((M, M), 1.0, 0, aligned=True), then >= 0.5.
    rois = torch.cat([fg_matched[:, None].to(fg_boxes), fg_boxes], dim=1)
    d2 = roi_align(gt_masks[:, None].float(), rois, (28, 28), 1.0, 0, aligned=True)[:, 0] >= 0.5
    out["mask.detectron2_bitmask"] = d2.to(torch.uint8)

    path = os.path.join(OUT, "training_targets.safetensors")
    fixture_io.save(path, out, metadata={"height": H, "width": W, "seed": SEED})
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")
    print("rpn positives", int((labels[0] == 1).sum()), "ignored", int((labels[0] == -1).sum()),
          "roi fg", len(fg), "sampled", len(sampled[0]))


if __name__ == "__main__":
    main()
