#!/usr/bin/python3
"""CPU time of the PyTorch BlendMask R-50 reference (tests/reference/blendmask_reference.py, torch 1.13), image to
pasted masks, and the blender's share of it, printed as one JSON line to compare with `nativeseg bench model`.

Usage: /usr/bin/python3 build/bench-blendmask-torch.py [--threads T] [--runs N] [--blender-runs M] [--shared DIR]

The model is R_50_1x with the fixture's conditioned hashed weights (make_blendmask_fixtures.py; DIR/specs/keys
names them, DIR defaults to ../shared beside the checkout), so it keeps as many detections (100) as the parity
fixture does and the blender has the same work. The image is the fixture's 640x480 COCO image, which the released
800/1333 test resize makes 800x1067 (padded to 800x1088). One warm-up run, then N timed runs of the whole
reference (PIL resize, backbone, FPN, FCOS head with the dense top_layer, basis module, decode and NMS, blender,
detector_postprocess with the paste); then M timed runs of the blender alone (RoIAlign of the bases, the 14->56
attention upsample, softmax and weighted sum, sigmoid) on that image's bases, boxes and attentions. Medians of
wall and process CPU time (all threads): on a shared machine the CPU time is the steadier number.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import blendmask_reference as ref  # noqa: E402
from make_blendmask_fixtures import IMAGE, SHARED, build  # noqa: E402

CONFIG = "R_50_1x"


def timed(fn, runs):
    """Medians (wall ms, CPU ms) of runs calls of fn, and its last result."""
    walls, cpus = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus), result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--blender-runs", type=int, default=20)
    parser.add_argument("--shared", default=SHARED)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = ref.CONFIGS[CONFIG]
    pixels = np.array(Image.open(os.path.join(args.shared, "data", IMAGE)).convert("RGB"))
    w = build(args.shared, CONFIG, {})
    with torch.no_grad():
        r = ref.run(w, config, pixels)
        wall, cpu, r = timed(lambda: ref.run(w, config, pixels), args.runs)
        boxes = r["all_boxes"][r["keep"]]
        blend_wall, blend_cpu, _ = timed(lambda: ref.blender(r["bases"], boxes, r["attentions"], ()), args.blender_runs)
    print(json.dumps({
        "model": config["architecture"], "reference": "tests/reference/blendmask_reference.py",
        "torch": torch.__version__, "threads": args.threads, "image": IMAGE,
        "input": list(r["resized"]), "padded": list(r["input"].shape[2:]), "detections": int(boxes.shape[0]),
        "runs": args.runs, "end_to_end_ms": round(wall, 1), "end_to_end_cpu_ms": round(cpu, 1),
        "blender_runs": args.blender_runs, "blender_ms": round(blend_wall, 2), "blender_cpu_ms": round(blend_cpu, 2),
        "blender_share": round(blend_wall / wall, 4), "blender_cpu_share": round(blend_cpu / cpu, 4),
    }))


if __name__ == "__main__":
    main()
