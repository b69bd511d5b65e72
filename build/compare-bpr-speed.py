"""Speed of BPR refinement: torch (tests/reference/bpr_reference.py) against `nativeseg refine`, same patches, same threads.

Run with /usr/bin/python3 (Debian's torch):
    build/compare-bpr-speed.py --work /tmp/bprspeed [--threads 2] [--shared ../shared/data]
It writes WORK/bpr_hr18s.pth (hashed hr18s weights in the released mmseg layout, {"meta", "state_dict"}), WORK/coarse.json
(the COCO image's rasterised polygons at 1/8 resolution, as in make_bpr_fixtures.py) and times the torch network on the
reference's patches of that image (best of 3). Then, with the same thread count:
    nativeseg convert WORK/bpr_hr18s.pth -o WORK/bpr.safetensors
    NATIVESEG_THREADS=2 nativeseg refine IMAGE --results WORK/coarse.json --model WORK/bpr.safetensors --json WORK/refined.json --device cpu
prints the engine's patches/s in the network and the time spent extracting and reassembling.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "reference"))
import bpr_reference as bpr  # noqa: E402
import make_bpr_fixtures as fixtures  # noqa: E402


def rle(mask):
    flat = mask.T.reshape(-1)
    edges = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    counts = np.diff(edges).tolist()
    return {"size": list(mask.shape), "counts": [0] + counts if flat[0] else counts}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--shared", default=fixtures.SHARED)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    model = fixtures.hashed_model({})
    state = model.state_dict()
    torch.save({"meta": {"CLASSES": ("bg", "fg"), "PALETTE": [[128, 64, 128], [244, 35, 232]]}, "state_dict": state},
               os.path.join(args.work, "bpr_hr18s.pth"))
    masks, image_id = fixtures.coarse_masks(args.shared)
    with open(os.path.join(args.work, "coarse.json"), "w") as f:
        json.dump([{"image_id": 1, "category_id": 1, "segmentation": rle(m), "score": 0.9} for m in masks], f)
    pixels = np.array(Image.open(os.path.join(args.shared, fixtures.IMAGE)).convert("RGB"))
    start = time.perf_counter()
    _, patches, _, inputs = bpr.refine(model, pixels, masks)
    total = time.perf_counter() - start
    x = torch.from_numpy(inputs)
    best = float("inf")
    with torch.no_grad():
        for _ in range(3):
            t = time.perf_counter()
            for b in range(0, len(x), 32):
                model.foreground(x[b:b + 32], 64)
            best = min(best, time.perf_counter() - t)
    print(f"torch {torch.__version__}, {args.threads} threads: {len(patches)} patches, network {best * 1000:.0f} ms "
          f"({len(patches) / best:.1f} patches/s, batches of 32); whole reference refine {total:.1f} s")
    print("image:", os.path.join(args.shared, fixtures.IMAGE))


if __name__ == "__main__":
    main()
