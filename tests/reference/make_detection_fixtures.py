"""Writes tests/reference/fixtures/detection_*.safetensors: torch 1.13 / torchvision 0.14 references for
multi-level RoIAlign and the FPN level rules, batched NMS, box decoding and mask pasting.

Run with /usr/bin/python3 (Debian's torch). Inputs are seeded and stored next to the outputs, so the
C# tests never need torch's generator. Where the upstream function is not importable (detectron2,
maskrcnn-benchmark) the reference below is written from specs/maskrcnn.md, in the upstream's float32
operation order.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.detection._utils import BoxCoder
from torchvision.models.detection.roi_heads import paste_masks_in_image
from torchvision.ops.poolers import LevelMapper

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

IMAGE_H, IMAGE_W = 61, 83
STRIDES = [4, 8, 16, 32]


def random_boxes(g, n, max_side):
    """Boxes around a 61x83 image, some hanging over its edges, with zero-size and inverted ones mixed in."""
    xy = torch.rand(n, 2, generator=g) * torch.tensor([IMAGE_W + 30.0, IMAGE_H + 20.0]) - torch.tensor([20.0, 15.0])
    wh = torch.rand(n, 2, generator=g) * max_side
    wh[3::9, 0] = 0.0
    wh[5::11] *= -0.25
    return torch.cat([xy, xy + wh], dim=1)


# --- RoIAlign -------------------------------------------------------------------------------------

def levels_detectron2(boxes):
    # detectron2 modeling/poolers.py assign_boxes_to_levels
    sizes = torch.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    lv = torch.floor(4 + torch.log2(sizes / 224 + 1e-8))
    return (torch.clamp(lv, min=2, max=5).to(torch.int64) - 2).to(torch.int32)


def levels_torchvision(boxes):
    return LevelMapper(2, 5)([boxes]).to(torch.int32)


def levels_maskrcnn_benchmark(boxes):
    # maskrcnn_benchmark/modeling/poolers.py LevelMapper on BoxList.area() (TO_REMOVE = 1)
    area = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    lv = torch.floor(4 + torch.log2(torch.sqrt(area) / 224 + 1e-6))
    return (torch.clamp(lv, min=2, max=5).to(torch.int64) - 2).to(torch.int32)


def roi_align_fixture():
    g = torch.Generator().manual_seed(3)
    t = {}
    features = []
    for l, s in enumerate(STRIDES):
        f = torch.rand(2, 3, math.ceil(IMAGE_H / s), math.ceil(IMAGE_W / s), generator=g) * 4 - 2
        t[f"features.{l}"] = f
        features.append(f)
    n = 48
    boxes = random_boxes(g, n, 70.0)
    batch = torch.randint(0, 2, (n, 1), generator=g).float()
    rois = torch.cat([batch, boxes], dim=1)
    t["rois"] = rois
    # Pool with random levels too, so every level sees boxes of every size.
    t["levels.random"] = torch.randint(0, 4, (n,), generator=g).to(torch.int32)
    cases = [
        ("aligned_s0_7x7", True, 0, (7, 7), "random"),
        ("legacy_s2_7x7", False, 2, (7, 7), "random"),
        ("aligned_s2_5x4", True, 2, (5, 4), "random"),
        ("legacy_s0_14x14", False, 0, (14, 14), "random"),
    ]
    for name, aligned, sampling, size, lv in cases:
        levels = t[f"levels.{lv}"].long()
        out = torch.zeros(n, 3, *size)
        for l, s in enumerate(STRIDES):
            idx = torch.nonzero(levels == l).flatten()
            if idx.numel():
                out[idx] = torchvision.ops.roi_align(features[l], rois[idx], size, 1.0 / s, sampling, aligned)
        t[f"{name}.out"] = out

    # Level rules on log-uniform sizes, with sides on the 224·2^k boundaries.
    m = 256
    side = torch.exp(torch.rand(m, generator=g) * 7)
    boundary = 224.0 * 2.0 ** torch.randint(-3, 3, (m,), generator=g).float()
    side[::8] = boundary[::8]
    # Half a pixel short: maskrcnn-benchmark's +1 sides cross the boundary, the others do not.
    side[1::8] = boundary[1::8] - 0.5
    # A hair short: torchvision's 1e-6 after the log lifts these a level, detectron2's 1e-8 does not.
    side[2::8] = boundary[2::8] * (1 - torch.tensor([1e-7, 3e-7, 6e-7])[torch.randint(0, 3, (m // 8,), generator=g)])
    aspect = torch.rand(m, generator=g) * 4 + 0.25
    aspect[::8] = aspect[1::8] = aspect[2::8] = 1.0
    xy = torch.rand(m, 2, generator=g) * 500
    wh = torch.stack([side * torch.sqrt(aspect), side / torch.sqrt(aspect)], dim=1)
    level_boxes = torch.cat([xy, xy + wh], dim=1)
    t["level_boxes"] = level_boxes
    t["level_boxes.detectron2"] = levels_detectron2(level_boxes)
    t["level_boxes.torchvision"] = levels_torchvision(level_boxes)
    t["level_boxes.maskrcnn_benchmark"] = levels_maskrcnn_benchmark(level_boxes)
    fixture_io.save(os.path.join(OUT, "detection_roi_align.safetensors"), t)


# --- NMS ------------------------------------------------------------------------------------------

def nms_inputs(g, n, classes, score_levels):
    """Clustered boxes on a 1/8-pixel grid (exact under batched_nms's class offsets), duplicates, ties."""
    centres = torch.rand(max(1, n // 24), 2, generator=g) * torch.tensor([600.0, 400.0])
    sizes = 10 + torch.rand(centres.shape[0], 2, generator=g) * 90
    pick = torch.randint(0, centres.shape[0], (n,), generator=g)
    wh = sizes[pick] * (0.8 + 0.4 * torch.rand(n, 2, generator=g))
    xy = centres[pick] + (torch.rand(n, 2, generator=g) - 0.5) * 0.3 * sizes[pick]
    boxes = torch.round(torch.cat([xy, xy + wh], dim=1) * 8) / 8
    dup = torch.arange(9, n, 10)
    boxes[dup] = boxes[torch.randint(0, 9, (dup.numel(),), generator=g) + dup - 9]
    boxes[7::23, 2] = boxes[7::23, 0]
    if score_levels:
        scores = torch.randint(0, score_levels, (n,), generator=g).float() / score_levels
    else:
        scores = torch.rand(n, generator=g)
    idxs = torch.randint(0, classes, (n,), generator=g)
    return boxes, scores, idxs


def nms_plus_one(boxes, scores, idxs, threshold):
    """maskrcnn-benchmark's CUDA NMS per class (+1 areas, suppress if IoU > threshold), results by score."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    b = boxes.numpy()
    removed = np.zeros(len(order), dtype=bool)
    keep = []
    one = np.float32(1)
    for a, i in enumerate(order):
        if removed[i]:
            continue
        keep.append(i)
        for j in order[a + 1:]:
            if removed[j] or idxs[j] != idxs[i]:
                continue
            w = max(np.float32(min(b[i, 2], b[j, 2]) - max(b[i, 0], b[j, 0])) + one, np.float32(0))
            h = max(np.float32(min(b[i, 3], b[j, 3]) - max(b[i, 1], b[j, 1])) + one, np.float32(0))
            inter = np.float32(w * h)
            area_i = np.float32((b[i, 2] - b[i, 0] + one) * (b[i, 3] - b[i, 1] + one))
            area_j = np.float32((b[j, 2] - b[j, 0] + one) * (b[j, 3] - b[j, 1] + one))
            if np.float32(inter / np.float32(area_i + area_j - inter)) > np.float32(threshold):
                removed[j] = True
    return torch.tensor(keep, dtype=torch.int64)


def nms_fixture():
    g = torch.Generator().manual_seed(4)
    t = {}
    # (name, n, classes, score levels (0 = continuous), threshold): "ties" takes batched_nms's offset path,
    # "rpn" (n*4 > 4000) its per-class loop.
    for name, n, classes, levels, thr in [("ties", 500, 7, 16, 0.5), ("rpn", 1200, 5, 0, 0.7), ("one_score", 150, 2, 1, 0.3)]:
        boxes, scores, idxs = nms_inputs(g, n, classes, levels)
        t[f"{name}.boxes"], t[f"{name}.scores"], t[f"{name}.idxs"] = boxes, scores, idxs
        t[f"{name}.keep"] = torchvision.ops.batched_nms(boxes, scores, idxs, thr)
    boxes, scores, idxs = nms_inputs(g, 300, 4, 8)
    boxes = torch.round(boxes)
    t["plus_one.boxes"], t["plus_one.scores"], t["plus_one.idxs"] = boxes, scores, idxs
    t["plus_one.keep"] = nms_plus_one(boxes, scores.tolist(), idxs.tolist(), 0.5)
    fixture_io.save(os.path.join(OUT, "detection_nms.safetensors"), t)


# --- Box coder ------------------------------------------------------------------------------------

def decode_maskrcnn_benchmark(deltas, boxes, weights, clip):
    """maskrcnn_benchmark/modeling/box_coder.py decode (TO_REMOVE = 1), then clip_to_image to [0, size - 1]."""
    wx, wy, ww, wh = weights
    widths = boxes[:, 2] - boxes[:, 0] + 1
    heights = boxes[:, 3] - boxes[:, 1] + 1
    ctr_x = boxes[:, 0] + 0.5 * widths
    ctr_y = boxes[:, 1] + 0.5 * heights
    dx = deltas[:, 0::4] / wx
    dy = deltas[:, 1::4] / wy
    dw = torch.clamp(deltas[:, 2::4] / ww, max=math.log(1000.0 / 16))
    dh = torch.clamp(deltas[:, 3::4] / wh, max=math.log(1000.0 / 16))
    pred_ctr_x = dx * widths[:, None] + ctr_x[:, None]
    pred_ctr_y = dy * heights[:, None] + ctr_y[:, None]
    pred_w = torch.exp(dw) * widths[:, None]
    pred_h = torch.exp(dh) * heights[:, None]
    out = torch.zeros_like(deltas)
    out[:, 0::4] = pred_ctr_x - 0.5 * pred_w
    out[:, 1::4] = pred_ctr_y - 0.5 * pred_h
    out[:, 2::4] = pred_ctr_x + 0.5 * pred_w - 1
    out[:, 3::4] = pred_ctr_y + 0.5 * pred_h - 1
    h, w = clip
    out[:, 0::4] = out[:, 0::4].clamp(min=0, max=w - 1)
    out[:, 1::4] = out[:, 1::4].clamp(min=0, max=h - 1)
    out[:, 2::4] = out[:, 2::4].clamp(min=0, max=w - 1)
    out[:, 3::4] = out[:, 3::4].clamp(min=0, max=h - 1)
    return out


def box_coder_fixture():
    g = torch.Generator().manual_seed(5)
    t = {}
    n, k = 64, 3
    boxes = random_boxes(g, n, 60.0)
    deltas = (torch.rand(n, 4 * k, generator=g) * 2 - 1) * torch.tensor([3.0, 3.0, 30.0, 30.0]).repeat(k)
    t["boxes"], t["deltas"] = boxes, deltas
    # torchvision's BoxCoder is detectron2's Box2BoxTransform (no +1, clamp at log(1000/16)).
    roi = BoxCoder((10.0, 10.0, 5.0, 5.0)).decode_single(deltas, boxes)
    t["detectron2_roi_clip.out"] = torchvision.ops.clip_boxes_to_image(roi.reshape(-1, 4), (IMAGE_H, IMAGE_W)).reshape(n, -1)
    t["rpn_no_clip.out"] = BoxCoder((1.0, 1.0, 1.0, 1.0)).decode_single(deltas, boxes)
    t["maskrcnn_benchmark_roi_clip.out"] = decode_maskrcnn_benchmark(deltas, boxes, (10.0, 10.0, 5.0, 5.0), (IMAGE_H, IMAGE_W))
    small = t["rpn_no_clip.out"].reshape(-1, 4).clone()
    small[::5, 2] = small[::5, 0] + 1e-3
    small[1::5, 3] = small[1::5, 1] + 5e-4
    small[2::7, 2] = small[2::7, 0]
    t["small.boxes"] = small
    mask = torch.zeros(small.shape[0], dtype=torch.uint8)
    mask[torchvision.ops.remove_small_boxes(small, 1e-3)] = 1
    t["small.keep"] = mask
    fixture_io.save(os.path.join(OUT, "detection_box_coder.safetensors"), t)


# --- Mask paste -----------------------------------------------------------------------------------

def paste_detectron2(masks, boxes, h, w, threshold=0.5):
    """detectron2 layers/mask_ops.py paste_masks_in_image on the CPU: one mask at a time (skip_empty),
    _do_paste_mask's grid_sample at pixel centres, >= threshold."""
    out = torch.zeros(masks.shape[0], h, w, dtype=torch.uint8)
    for i in range(masks.shape[0]):
        box = boxes[i:i + 1]
        x0_int, y0_int = torch.clamp(box.min(dim=0).values.floor()[:2] - 1, min=0).to(dtype=torch.int32)
        x1_int = torch.clamp(box[:, 2].max().ceil() + 1, max=w).to(dtype=torch.int32)
        y1_int = torch.clamp(box[:, 3].max().ceil() + 1, max=h).to(dtype=torch.int32)
        if x1_int <= x0_int or y1_int <= y0_int:
            continue
        x0, y0, x1, y1 = torch.split(box, 1, dim=1)
        img_y = torch.arange(y0_int, y1_int, dtype=torch.float32) + 0.5
        img_x = torch.arange(x0_int, x1_int, dtype=torch.float32) + 0.5
        img_y = (img_y - y0) / (y1 - y0) * 2 - 1
        img_x = (img_x - x0) / (x1 - x0) * 2 - 1
        gx = img_x[:, None, :].expand(1, img_y.size(1), img_x.size(1))
        gy = img_y[:, :, None].expand(1, img_y.size(1), img_x.size(1))
        grid = torch.stack([gx, gy], dim=3)
        pasted = F.grid_sample(masks[i:i + 1, None], grid, align_corners=False)
        out[i, y0_int:y1_int, x0_int:x1_int] = (pasted[0, 0] >= threshold).to(torch.uint8)
    return out


def mask_paste_fixture():
    g = torch.Generator().manual_seed(6)
    t = {}
    n, m = 12, 28
    # Smooth blobs (coarse noise upsampled) like real mask probabilities, plus fine noise.
    coarse = torch.rand(n, 1, 5, 5, generator=g)
    masks = F.interpolate(coarse, size=(m, m), mode="bilinear", align_corners=False)[:, 0]
    masks = (masks + (torch.rand(n, m, m, generator=g) - 0.5) * 0.2).clamp(0, 1)
    xy = torch.rand(n, 2, generator=g) * torch.tensor([IMAGE_W - 10.0, IMAGE_H - 10.0]) - 5
    wh = 1 + torch.rand(n, 2, generator=g) * torch.tensor([50.0, 40.0])
    boxes = torch.cat([xy, xy + wh], dim=1)
    boxes[2] = torch.tensor([-4.3, -3.7, IMAGE_W + 6.2, IMAGE_H + 2.9])  # covers the image
    boxes[5] = torch.tensor([30.2, 20.6, 30.9, 21.1])  # sub-pixel
    boxes[7] = torch.tensor([70.5, 50.25, 95.0, 70.0])  # over the bottom-right corner
    t["masks"], t["boxes"] = masks, boxes
    t["detectron2.out"] = paste_detectron2(masks, boxes, IMAGE_H, IMAGE_W)
    probs = paste_masks_in_image(masks[:, None], boxes, (IMAGE_H, IMAGE_W), padding=1)
    t["torchvision.out"] = (probs[:, 0] > 0.5).to(torch.uint8)
    t["torchvision.probs"] = probs[:4, 0]
    fixture_io.save(os.path.join(OUT, "detection_mask_paste.safetensors"), t)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    roi_align_fixture()
    nms_fixture()
    box_coder_fixture()
    mask_paste_fixture()
