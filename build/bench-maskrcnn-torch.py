#!/usr/bin/python3
"""End-to-end time (CPU, or GPU with --device cuda) of torchvision 0.14's maskrcnn_resnet50_fpn (torch 1.13) and of NativeSeg on the same
weights, image and thread count, measured side by side in one run.

Usage: /usr/bin/python3 build/bench-maskrcnn-torch.py [--threads T] [--runs N] [--rounds R] [--image I]
           [--nativeseg "COMMAND PREFIX"]

1. Builds maskrcnn_resnet50_fpn(weights=None, weights_backbone=None) and fills every parameter and BatchNorm
   buffer with tests/reference/hashed_weights.py tensors (the heads with the bounds of the Mask R-CNN fixtures,
   so scores spread out), saves the state dict with torch.save and converts it with `nativeseg convert`.
2. Resizes a COCO image (../shared/data/coco_mini_val2017 when present, else a synthetic one) to 800x1067
   and stores it as PNG, so both sides decode the same pixels and both resizers are the identity.
3. With random weights the box score threshold is 0 on both sides, so each keeps its 100 best detections and
   the heads do equal work.
4. R rounds, each: torch N timed runs (after one warm-up), then `nativeseg bench model --device cpu --runs N`
   with NATIVESEG_THREADS=T. The machine may be shared, so the two sides alternate and the medians over all
   rounds are reported, with each round's medians.

torch's end to end: PNG decode (PIL), to_tensor, the model (normalise, resize, backbone, RPN, heads, mask paste
to float probabilities) and the 0.5 threshold. NativeSeg's also encodes each mask as COCO RLE, which torch's
does not: that only counts against NativeSeg.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision.transforms.functional import to_tensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "reference"))
import hashed_weights  # noqa: E402
from make_maskrcnn_fixtures import bound_for  # noqa: E402

ARCH = "maskrcnn_resnet50_fpn_torchvision"
COCO = os.path.join(ROOT, "..", "shared", "data", "coco_mini_val2017", "val2017")
SIZE = (800, 1067)


def hashed_model():
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None).eval()
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            shape = tuple(t.shape)
            # BatchNorm near the identity but not equal to it, so the folded scale and shift matter; each
            # block's last one scaled down so the residual sums, and the FPN features, stay O(1).
            if name.endswith("running_var"):
                value = 1.0 + hashed_weights.uniform(name, shape, 0.5)
            elif name.endswith("running_mean"):
                value = hashed_weights.uniform(name, shape, 0.1)
            elif name.endswith(("bn3.weight", "downsample.1.weight")):
                value = 0.25 + hashed_weights.uniform(name, shape, 0.05)
            elif t.dim() == 1 and not name.startswith(("rpn.", "roi_heads.", "backbone.fpn.")):
                value = (1.0 if name.endswith("weight") else 0.0) + hashed_weights.uniform(name, shape, 0.2)
            else:
                value = hashed_weights.uniform(name, shape, bound_for(name, shape))
            t.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))
    model.roi_heads.score_thresh = 0.0
    return model


def write_image(path, size=SIZE):
    """A COCO image (or a synthetic one) resized to size (height, width), stored as PNG; returns where it came from."""
    names = sorted(f for f in os.listdir(COCO) if f.endswith(".jpg")) if os.path.isdir(COCO) else []
    if names:
        source = os.path.join(COCO, names[0])
        image = Image.open(source).convert("RGB").resize((size[1], size[0]), Image.BILINEAR)
    else:
        source = "synthetic gradient"
        y, x = np.mgrid[0:size[0], 0:size[1]]
        image = Image.fromarray(np.stack([x % 256, y % 256, (x + y) % 256], axis=2).astype(np.uint8))
    image.save(path)
    return source


def torch_runs(model, image_path, runs, device):
    def once():
        start = time.perf_counter()
        x = to_tensor(Image.open(image_path).convert("RGB")).to(device)
        with torch.no_grad():
            out = model([x])[0]
        masks = (out["masks"] > 0.5).cpu()
        return (time.perf_counter() - start) * 1000, len(out["scores"]), masks.shape

    once()
    results = [once() for _ in range(runs)]
    return [r[0] for r in results], results[-1][1], results[-1][2]


def nativeseg_runs(prefix, model, image_path, runs, threads, device, json_path):
    env = dict(os.environ, NATIVESEG_THREADS=str(threads))
    command = prefix + ["bench", "model", "--model", model, "--image", image_path, "--device", device,
                        "--runs", str(runs), "--warmup", "1", "--score-thresh", "0", "--json", json_path]
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"nativeseg bench model failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    with open(json_path) as f:
        result = json.load(f)
    return result, proc.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cuda: torch on its GPU (TF32 as torch defaults it) against nativeseg --device cuda")
    parser.add_argument("--nativeseg", default="dotnet run --project src/Cli -c Release --",
                        help="command that runs the nativeseg CLI")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    prefix = shlex.split(args.nativeseg)

    with tempfile.TemporaryDirectory() as tmp:
        model = hashed_model()
        pth, converted = os.path.join(tmp, "model.pth"), os.path.join(tmp, "model.safetensors")
        torch.save(model.state_dict(), pth)
        # Saved from the CPU so the checkpoint's storages carry no device location.
        model = model.to(args.device)
        subprocess.run(prefix + ["convert", pth, "--out", converted, "--arch", ARCH], check=True, capture_output=True)
        image_path = os.path.join(tmp, "image.png")
        source = write_image(image_path)
        print(f"image: {source} resized to {SIZE[0]}x{SIZE[1]}; {args.threads} threads; "
              f"{args.rounds} rounds of {args.runs} runs per side; torch {torch.__version__}, torchvision {torchvision.__version__}")

        torch_all, ours_all, stdout = [], [], ""
        for r in range(args.rounds):
            times, detections, mask_shape = torch_runs(model, image_path, args.runs, args.device)
            result, stdout = nativeseg_runs(prefix, converted, image_path, args.runs, args.threads, args.device,
                                            os.path.join(tmp, "bench.json"))
            ours = result["stages"]["end to end"]["samples_ms"]
            torch_all += times
            ours_all += ours
            print(f"round {r + 1}: torch median {statistics.median(times):.0f} ms ({detections} detections, masks {tuple(mask_shape)}), "
                  f"nativeseg median {statistics.median(ours):.0f} ms ({result['detections']} detections)")

        print("last nativeseg round:")
        print(stdout.rstrip())
        t, n = statistics.median(torch_all), statistics.median(ours_all)
        print(f"end to end, median of {len(torch_all)} runs each: torch {t:.0f} ms, nativeseg {n:.0f} ms, "
              f"nativeseg/torch = {n / t:.2f}")


if __name__ == "__main__":
    main()
