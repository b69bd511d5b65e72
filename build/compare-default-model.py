#!/usr/bin/python3
"""Parity sanity check of the default model: runs the same weights (weights/default.safetensors, or any model of its
architecture) in torchvision 0.14 on the images that `nativeseg segment` already ran on, and compares its detections
with segment's results JSON.

  /usr/bin/python3 build/compare-default-model.py --model weights/default.safetensors \
      --results OUT/results.json --images IMG1.png IMG2.png ...

Detections are paired greedily by box IoU (same class, best first); reported per image: detections on each
side, pairs, the largest |score| and box-coordinate differences and the lowest mask IoU over the pairs.
Scores are compared above --min-score, where near-threshold ties cannot flip which detections exist.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import default_model_torch  # noqa: E402


def box_iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="weights/default.safetensors")
    p.add_argument("--results", required=True)
    p.add_argument("--images", nargs="+", required=True)
    p.add_argument("--min-score", type=float, default=0.3)
    args = p.parse_args()

    model, _ = default_model_torch.load_model(args.model)
    torch.set_num_threads(1)
    with open(args.results) as f:
        ours = json.load(f)

    for path in args.images:
        name = os.path.basename(path)
        image = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1)
        with torch.no_grad():
            out = model([image])[0]
        theirs = [(b.tolist(), float(s), int(l), (m[0] > 0.5).numpy())
                  for b, s, l, m in zip(out["boxes"], out["scores"], out["labels"], out["masks"]) if s >= args.min_score]
        mine = []
        for r in ours:
            if r["file_name"] == name and r["score"] >= args.min_score:
                x, y, w, h = r["bbox"]
                mine.append(([x, y, x + w, y + h], r["score"], r["category_id"], default_model_torch.decode_rle(r["segmentation"]).astype(bool)))
        pairs, used = [], set()
        for t in sorted(theirs, key=lambda d: -d[1]):
            best, best_iou = None, 0.5
            for j, m in enumerate(mine):
                if j not in used and m[2] == t[2] and box_iou(t[0], m[0]) > best_iou:
                    best, best_iou = j, box_iou(t[0], m[0])
            if best is not None:
                used.add(best)
                pairs.append((t, mine[best]))
        score_diff = max((abs(t[1] - m[1]) for t, m in pairs), default=0.0)
        box_diff = max((max(abs(a - b) for a, b in zip(t[0], m[0])) for t, m in pairs), default=0.0)
        mask_iou = min(((t[3] & m[3]).sum() / max(1, (t[3] | m[3]).sum()) for t, m in pairs), default=1.0)
        print(f"{name}: torchvision {len(theirs)}, nativeseg {len(mine)}, paired {len(pairs)}; "
              f"max |score diff| {score_diff:.5f}, max |box diff| {box_diff:.3f} px, min mask IoU {mask_iou:.4f}")


if __name__ == "__main__":
    main()
