"""Writes tests/reference/fixtures/blendmask_<config>.safetensors for R_50_1x, R_101_dcni3_5x and 550_R_50_3x:
blendmask_reference.py run end to end on a real 640x480 COCO image at each released config's test resize.

Run with /usr/bin/python3 [--shared DIR] [config ...] (Debian's torch; default: every config; a few minutes each).
Reads the key lists in DIR/specs/keys and the image in DIR/data (neither is copied; DIR defaults to ../shared beside
the checkout): every tensor of the released layout, except num_batches_tracked and the training-only
basis_module.seg_head.*, is offset + hashed_weights.uniform, and the metadata stores each one's shape, bound and
offset, the architecture, an empty config (the released config's defaults), the image's path under DIR/data and the
SHA-256 of its decoded RGB pixels, so the C# test rebuilds the model file and reads the same pixels.

The per-tensor bounds and offsets are conditioned so that the detections are confident (top-50 scores 0.55-0.84)
and each parity decision is far from its threshold; the script checks that and refuses to write a fixture otherwise:
- the 50th score lies SCORE_MARGIN above every cut (candidate threshold, per-level pre-NMS top-k, final kthvalue);
- NMS at 0.6 -/+ NMS_MARGIN keeps the same top 50, and no top-50 box overlaps a same-class candidate scored within
  SCORE_TIE of it, so neither box nor score rounding can change which boxes survive;
- each top-50 mask has at least MIN_MASK_AREA pixels, and the pasted values within PASTE_MARGIN of 0.5 cover at most
  FLIP_FRACTION of its area (a box reaching past the bases map would have a plateau of exactly 0.5 there, which this
  refuses);
- the same model run in float64 matches the float32 run by the C# test's own criterion with mask IoU >= 0.99;
- every deliberately broken reference fails that criterion; for R_101_dcni3_5x, so do zeroed DCN offsets, and the
  script prints each DCN's offset statistics (mean |offset|, non-integer share, taps outside the map, mask range).
Stored: the top-50 detections (boxes, scores, labels as COCO category ids, RLE masks as RleFixture reads them), the
same for each broken reference (prefix "<break>."), and checkpoints for debugging: per-channel sums of P3..P7
("p<l>.sums"), the bases' per-channel sums, the FCOS candidates per level before the top-k, and the top
detections' 56x56 mask probabilities before the paste ("top.probs") with their boxes in the resized image.
"""
import argparse
import hashlib
import os
import re

import numpy as np
import torch
from PIL import Image
from torchvision.ops import box_iou as box_iou_matrix

import blendmask_reference as ref
import fixture_io
import hashed_weights
from make_detection_fixtures import paste_detectron2

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
SHARED = os.path.join(HERE, "..", "..", "..", "shared")
IMAGE = "coco_mini_val2017/val2017/000000073326.jpg"

TOP = 50
PROBS_TOP = 4
# COCO's category ids of the 80 contiguous classes, the ids NativeSeg's segmenters report.
COCO80 = [*range(1, 12), *range(13, 26), 27, 28, *range(31, 45), *range(46, 66), 67, 70, *range(72, 83),
          *range(84, 91)]
# The C# test's criterion (tests/NativeSeg.Tests/Models/MaskRcnn/DetectionMatching.cs).
BOX_IOU, SCORE_DELTA, MASK_IOU, MATCHED = 0.98, 0.01, 0.95, 0.95
SCORE_MARGIN = SCORE_DELTA
NMS_MARGIN = 0.002
SCORE_TIE = 1e-4
# Float32 implementations drift ~1e-5 apart in a blended probability (a logit of a few units, relative error ~1e-5).
PASTE_MARGIN, FLIP_FRACTION = 1e-4, 0.02
# Per-config head adjustments (bounds of the tower convs' and GroupNorms' biases, the regression bias), found by
# trying a few: with the common rules, some of these configs' top 50 boxes reach past the bases map, where RoIAlign
# reads 0, the blended probability is exactly 0.5 and the paste's >= 0.5 is decided by rounding.
TOWER_CONV_BIAS = {"R_101_dcni3_5x": 0.4}
# The 550 model's bases come out around -10 on its boxes, so its masks would cover a few pixels; the offset on the
# bases' bias adds to every blended logit (the softmax weights sum to 1).
BASES_BIAS = {"550_R_50_3x": 8.0}
MIN_MASK_AREA = 20
TOWER_NORM_BIAS = {"550_R_50_3x": 0.7}
BOX_BIAS = {"550_R_50_3x": 2.0}
BROKEN = {"R_50_1x": ("softmax_axis", "align_corners"),
          "R_101_dcni3_5x": ("softmax_axis", "align_corners", "dcn_mask_ignored"),
          "550_R_50_3x": ("softmax_axis", "align_corners")}


def keys(shared, config_name):
    """(name, shape) of every tensor inference reads, from the released checkpoint's key list."""
    path = os.path.join(shared, "specs", "keys", "keys_blendmask_%s.txt" % config_name)
    out = []
    with open(path) as f:
        for line in f:
            name, shape = line.split(" ", 1)
            if name.endswith("num_batches_tracked") or name.startswith("basis_module.seg_head."):
                continue
            out.append((name, tuple(int(v) for v in shape.strip(" []\n").split(",") if v.strip())))
    return out


def rule(name, shape, config_name):
    """(offset, bound): value = offset + uniform(-bound, bound)."""
    config = ref.CONFIGS[config_name]
    if name.endswith("running_var"):
        return 1.0, 0.5
    if name.endswith("running_mean"):
        return 0.0, 0.1
    if name.endswith(("conv3.norm.weight", "shortcut.norm.weight")):
        # Each residual block's last FrozenBN scaled down so 16 (33) residual sums keep the features O(1).
        return 0.25, 0.05
    if name.endswith("conv2_offset.bias"):
        # Offsets of up to 5 pixels (non-integer: uniform) and mask logits in [-5, 5], so every block's taps land
        # between pixels and, near the borders, outside the map, and the mask weighs them from ~0 to ~1.
        return 0.0, 5.0
    if len(shape) == 1 and name.endswith("weight"):
        return 1.0, 0.2
    if name == "proposal_generator.fcos_head.cls_logits.bias":
        return -4.0, 0.1
    if name == "proposal_generator.fcos_head.ctrness.bias":
        return 2.0, 0.1
    if name == "proposal_generator.fcos_head.bbox_pred.bias":
        # Boxes about 5 strides wide.
        return BOX_BIAS.get(config_name, 2.5), 0.5
    if name == "basis_module.tower.%d.bias" % (config["basis_convs"] + 2):
        return BASES_BIAS.get(config_name, 0.0), 0.1
    tower = re.fullmatch(r"proposal_generator\.fcos_head\.\w+_tower\.(\d+)\.bias", name)
    if tower:
        return 0.0, (TOWER_CONV_BIAS if int(tower[1]) % 3 == 0 else TOWER_NORM_BIAS).get(config_name, 0.1)
    if name.endswith("bias"):
        return 0.0, 0.1
    fan_in = int(np.prod(shape[1:]))
    he = float(np.sqrt(6.0 / fan_in))
    if name.startswith("backbone.fpn_lateral"):
        # res3..res5 reach O(100); real FPN levels are O(1-10).
        return 0.0, 0.08 * he
    if name.endswith("conv2_offset.weight"):
        return 0.0, 0.5 * he
    if name == "basis_module.tower.%d.weight" % (config["basis_convs"] + 2):
        # Bases of several units (standard deviation 5-7 on this image), so that the blended logits are mostly far
        # from 0 and the masks sharp.
        return 0.0, 3.0 * he
    if name == "proposal_generator.fcos_head.cls_logits.weight":
        return 0.0, he
    if name in ("proposal_generator.fcos_head.ctrness.weight", "proposal_generator.fcos_head.bbox_pred.weight"):
        return 0.0, 0.5 * he
    return 0.0, he


def build(shared, config_name, meta):
    """The model's weights under the released key names; meta records how to rebuild them."""
    weights = hashed_weights.conditioned(keys(shared, config_name), lambda n, s: rule(n, s, config_name), meta)
    return {k: torch.from_numpy(v) for k, v in weights.items()}


def box_iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def mask_iou(a, b):
    """Rle.Iou as the C# test computes it: 0 when the masks do not intersect, two empty ones included."""
    inter = np.logical_and(a, b).sum()
    return inter / np.logical_or(a, b).sum() if inter else 0.0


def match(reference, other):
    """DetectionMatching.Match: (matched, min mask IoU) of reference's top 50 against every detection of other."""
    used = set()
    matched, worst = 0, 1.0
    for i in range(min(TOP, len(reference["scores"]))):
        best, best_iou = -1, 0.0
        for j in range(len(other["scores"])):
            if j in used or other["classes"][j] != reference["classes"][i]:
                continue
            if abs(float(other["scores"][j]) - float(reference["scores"][i])) > SCORE_DELTA:
                continue
            iou = box_iou(reference["boxes"][i].tolist(), other["boxes"][j].tolist())
            if iou >= BOX_IOU and iou > best_iou:
                best, best_iou = j, iou
        if best >= 0:
            used.add(best)
            matched += 1
            worst = min(worst, mask_iou(reference["masks"][i].numpy(), other["masks"][best].numpy()))
    return matched, worst


def passes(reference, other):
    matched, worst = match(reference, other)
    top = min(TOP, len(reference["scores"]))
    return matched >= int(np.ceil(MATCHED * top)) and worst >= MASK_IOU, matched, worst


def check_scores(r):
    """The 50th score clears every cut by SCORE_MARGIN: the candidate threshold, the per-level top-k, the final cut."""
    scores = r["scores"]
    assert len(scores) >= TOP, "only %d detections" % len(scores)
    fiftieth = float(scores[TOP - 1])
    cuts = {"candidate threshold": ref.INFERENCE_TH ** 0.5}
    if r["nms_count"] > ref.POST_NMS_TOPK:
        cuts["final cut"] = float(r["all_scores"][r["keep"]].min())
    start = 0
    for level, count in enumerate(r["candidates"]):
        kept = min(count, ref.PRE_NMS_TOPK)
        if count > ref.PRE_NMS_TOPK:
            cuts["P%d top-k" % (level + 3)] = float(r["all_scores"][start:start + kept].min())
        start += kept
    for what, cut in cuts.items():
        assert fiftieth - cut >= SCORE_MARGIN, "the 50th score %.4f is within %g of the %s %.4f" % (
            fiftieth, SCORE_MARGIN, what, cut)
    return fiftieth, cuts


def check_nms(r):
    """NMS at 0.6 -/+ NMS_MARGIN keeps the same top 50, so box rounding cannot change which boxes survive, and no
    top-50 box overlaps a candidate of its class that NMS could suppress or be suppressed by with a score within
    SCORE_TIE of its own, so score rounding cannot change which of the two survives."""
    top = r["keep"][:TOP]
    for th in (ref.NMS_TH - NMS_MARGIN, ref.NMS_TH + NMS_MARGIN):
        keep = ref.batched_nms(r["all_boxes"], r["all_scores"], r["all_classes"], th)
        assert keep[:TOP].tolist() == top.tolist(), "NMS at %g keeps a different top %d" % (th, TOP)
    iou = box_iou_matrix(r["all_boxes"][top], r["all_boxes"])
    rivals = (iou > ref.NMS_TH - NMS_MARGIN) & (r["all_classes"][top, None] == r["all_classes"][None, :])
    rivals[torch.arange(len(top)), top] = False
    gaps = (r["all_scores"][top, None] - r["all_scores"][None, :]).abs()[rivals]
    closest = float(gaps.min()) if gaps.numel() else float("inf")
    assert closest >= SCORE_TIE, "a top-%d box and an overlapping candidate of its class score %g apart" % (
        TOP, closest)
    return closest


def check_paste(r):
    """In each top-50 mask, the pixels whose pasted value lies within PASTE_MARGIN of 0.5 are at most FLIP_FRACTION of
    its area: even if rounding flipped all of them, its IoU would stay far above 0.95. Returns the largest share."""
    h, w = r["masks"].shape[1:]
    probs, boxes = r["probs"][r["kept"]][:TOP], r["boxes"][:TOP]
    low = paste_detectron2(probs, boxes, h, w, 0.5 - PASTE_MARGIN)
    high = paste_detectron2(probs, boxes, h, w, 0.5 + PASTE_MARGIN)
    worst = 0.0
    for i in range(probs.shape[0]):
        area = int(r["masks"][i].sum())
        assert area >= MIN_MASK_AREA, "detection %d: its mask has %d pixels" % (i, area)
        share = int((low[i] != high[i]).sum()) / area
        assert share <= FLIP_FRACTION, "detection %d: %.2f%% of its mask is within %g of 0.5" % (
            i, 100 * share, PASTE_MARGIN)
        worst = max(worst, share)
    return worst


def offset_statistics(w, x, config):
    """Per DCN: mean |offset|, the share of non-integer offsets and of taps sampling outside the map."""
    stats = []

    def observe(offset, mask):
        hh, ww = offset.shape[2:]
        taps = torch.arange(9)
        ys = torch.arange(hh).view(1, 1, hh, 1) + (taps // 3 - 1).view(1, 9, 1, 1) + offset[:, 0::2]
        xs = torch.arange(ww).view(1, 1, 1, ww) + (taps % 3 - 1).view(1, 9, 1, 1) + offset[:, 1::2]
        outside = (ys <= -1) | (ys >= hh) | (xs <= -1) | (xs >= ww)
        stats.append((float(offset.abs().mean()), float((offset != offset.round()).float().mean()),
                      float(outside.float().mean()), float(mask.min()), float(mask.max())))

    ref.bottom_up(w, x, config, (), observe)
    return stats


def summary(r):
    """The top-50 detections as the fixture stores them: boxes, scores, COCO category ids, RLE masks."""
    out = {"boxes": r["boxes"][:TOP], "scores": r["scores"][:TOP],
           "labels": torch.tensor([COCO80[int(c)] for c in r["classes"][:TOP]], dtype=torch.int64)}
    out.update(fixture_io.rle_masks("masks", r["masks"][:TOP].numpy()))
    return out


def make(shared, config_name, pixels, meta):
    config = ref.CONFIGS[config_name]
    meta = dict(meta, architecture=config["architecture"], config="{}", min_size=str(config["min_size"]),
                max_size=str(config["max_size"]))
    w = build(shared, config_name, meta)
    with torch.no_grad():
        r = ref.run(w, config, pixels)
        fiftieth, cuts = check_scores(r)
        closest = check_nms(r)
        flips = check_paste(r)
        r64 = ref.run({k: v.double() for k, v in w.items()}, config, pixels)
        ok, matched, worst = passes(r, r64)
        assert ok and worst >= 0.99, "float64 run: %d matched, min mask IoU %.4f" % (matched, worst)
        print(config_name, "input", tuple(r["input"].shape), "resized", r["resized"], "candidates", r["candidates"],
              "after NMS", len(r["keep"]), "final", len(r["scores"]))
        print("  top-50 scores %.3f..%.3f, cuts %s, closest score of an overlapping rival %.2g" % (
            float(r["scores"][0]), fiftieth, {k: round(v, 3) for k, v in cuts.items()}, closest))
        print("  mask areas", r["masks"][:TOP].sum(dim=(1, 2)).tolist())
        print("  largest share of a mask within %g of 0.5: %.4f; float64 run: %d/%d matched, min mask IoU %.4f"
              % (PASTE_MARGIN, flips, matched, TOP, worst))
        out = summary(r)
        for b in BROKEN[config_name]:
            broken = ref.run(w, config, pixels, (b,))
            ok, matched, worst = passes(r, broken)
            assert not ok, "breaking %s still passes the parity criterion" % b
            print("  broken %s: %d/%d matched, min mask IoU %.4f" % (b, matched, TOP, worst))
            out.update({b + "." + k: v for k, v in summary(broken).items()})
        if ref.deform_blocks(config):
            x = r["input"]
            for i, (mean, fractional, outside, low, high) in enumerate(offset_statistics(w, x, config)):
                print("  DCN %d: mean |offset| %.2f px, non-integer %.3f, taps outside the map %.3f, mask %.3f..%.3f"
                      % (i, mean, fractional, outside, low, high))
            ok, matched, worst = passes(r, ref.run(w, config, pixels, ("dcn_offset_ignored",)))
            assert not ok, "zero DCN offsets still pass the parity criterion"
            print("  zero offsets: %d/%d matched, min mask IoU %.4f" % (matched, TOP, worst))
    for level, p in enumerate(r["levels"]):
        out["p%d.sums" % (level + 3)] = p[0].sum(dim=(1, 2))
    out["bases.sums"] = r["bases"][0].sum(dim=(1, 2))
    out["candidates"] = torch.tensor(r["candidates"], dtype=torch.int64)
    out["top.probs"] = r["probs"][:PROBS_TOP]
    out["top.boxes"] = r["all_boxes"][r["keep"][:PROBS_TOP]]
    out["input.size"] = np.array(r["resized"], dtype=np.int32)
    path = os.path.join(OUT, "blendmask_%s.safetensors" % config_name)
    fixture_io.save(path, out, meta)
    print(" ", path, os.path.getsize(path), "bytes")


def parse_arguments(parser):
    """--shared DIR and the configs to run (default: all), checked."""
    parser.add_argument("--shared", default=SHARED)
    parser.add_argument("configs", nargs="*", help="default: " + " ".join(ref.CONFIGS))
    args = parser.parse_intermixed_args()
    unknown = set(args.configs) - set(ref.CONFIGS)
    if unknown:
        parser.error("unknown configs %s (known: %s)" % (" ".join(sorted(unknown)), " ".join(ref.CONFIGS)))
    args.configs = args.configs or list(ref.CONFIGS)
    return args


def main():
    args = parse_arguments(argparse.ArgumentParser())
    torch.set_num_threads(2)
    pixels = np.array(Image.open(os.path.join(args.shared, "data", IMAGE)).convert("RGB"))
    meta = {"image": IMAGE, "image.sha256": hashlib.sha256(pixels.tobytes()).hexdigest()}
    for name in args.configs:
        make(args.shared, name, pixels, meta)


if __name__ == "__main__":
    main()
