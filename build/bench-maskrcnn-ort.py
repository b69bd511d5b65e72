#!/usr/bin/python3
"""Whole-process time of NativeSeg and of ONNX Runtime (C#, the torchvision export) on the same Mask R-CNN
weights and the same real COCO images, run alternately.

Usage: /usr/bin/python3 build/bench-maskrcnn-ort.py [--rounds R] [--threads T] [--work DIR]
           [--nativeseg "COMMAND PREFIX"] [--precision fp32 bf16 ...] [--images A.jpg B.jpg ...]

1. Into DIR (default artifacts/bench-ort, ignored by git; reused when present): torchvision 0.14's
   maskrcnn_resnet50_fpn with the hashed weights of build/bench-maskrcnn-torch.py (score threshold 0, so both
   sides keep 100 detections per image), saved and converted with `nativeseg convert`, and exported to ONNX at
   opset 11 with dynamic image height and width (the export includes torchvision's normalise + resize).
2. Builds build/bench-maskrcnn-ort (Microsoft.ML.OnnxRuntime, graph optimisation ALL, T intra-op threads),
   which decodes each image with SkiaSharp, runs the session and writes COCO JSON (boxes, scores, labels and
   RLE masks at the 0.5 threshold).
3. R rounds, each: `nativeseg segment IMAGES --score-thresh 0 --device cpu --precision P` (NATIVESEG_THREADS=T; it
   also writes overlays) for each precision P given (default fp32; `--precision fp32 bf16` measures both in the same
   run), then the ONNX Runtime console on the same images, each timed as a whole process from start to exit, in wall
   and CPU time (all threads). Prints every round and the medians.

The images default to four of ../shared/data/coco_mini_val2017 with different sizes and aspect ratios.
"""
import argparse
import importlib.util
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COCO = os.path.join(ROOT, "..", "shared", "data", "coco_mini_val2017", "val2017")
# 640x426, 424x640, 612x612 and 500x333 (width x height).
DEFAULT_IMAGES = ["000000000139.jpg", "000000000802.jpg", "000000165518.jpg", "000000011813.jpg"]
ARCH = "maskrcnn_resnet50_fpn_torchvision"


def torch_bench_module():
    """build/bench-maskrcnn-torch.py, whose hashed model this benchmark shares (its file name has dashes)."""
    spec = importlib.util.spec_from_file_location("bench_maskrcnn_torch", os.path.join(ROOT, "build", "bench-maskrcnn-torch.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prepare_models(work, nativeseg):
    pth, converted, onnx = (os.path.join(work, n) for n in ("model.pth", "model.safetensors", "model.onnx"))
    if all(os.path.exists(p) for p in (converted, onnx)):
        return converted, onnx
    model = torch_bench_module().hashed_model()
    torch.save(model.state_dict(), pth)
    subprocess.run(nativeseg + ["convert", pth, "--out", converted, "--arch", ARCH], check=True, capture_output=True)
    sample = torch.rand(3, 480, 640)
    partial = onnx + ".partial"
    with torch.no_grad():
        torch.onnx.export(model, ([sample],), partial, opset_version=11,
                          input_names=["image"], output_names=["boxes", "labels", "scores", "masks"],
                          dynamic_axes={"image": [1, 2], "boxes": [0], "labels": [0], "scores": [0], "masks": [0, 2, 3]})
    os.replace(partial, onnx)
    os.remove(pth)
    return converted, onnx


def build_ort_console(work):
    out = os.path.join(work, "ort-console")
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "build", "bench-maskrcnn-ort"), "-c", "Release", "-o", out,
                    "-v", "q", "-nologo"], check=True)
    return os.path.join(out, "bench-maskrcnn-ort")


def child_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command, env=None):
    """Wall seconds and CPU seconds (all threads) of one whole process: on a shared machine the CPU time is the
    fairer comparison, the wall time being mostly the wait for a core."""
    start, cpu = time.perf_counter(), child_cpu_seconds()
    proc = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(command)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return seconds, child_cpu_seconds() - cpu


def detections(json_path):
    with open(json_path) as f:
        return len(json.load(f))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", default=os.path.join(ROOT, "artifacts", "bench-ort"))
    parser.add_argument("--nativeseg", default="dotnet run --project src/Cli -c Release --",
                        help="command that runs the nativeseg CLI (a built binary keeps the SDK out of the timing)")
    parser.add_argument("--images", nargs="+", help="image files (default: four COCO images of different sizes)")
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=["fp32", "bf16"],
                        help="NativeSeg's --precision, each timed every round (default: fp32)")
    args = parser.parse_args()
    images = args.images or [os.path.join(COCO, n) for n in DEFAULT_IMAGES]
    missing = [i for i in images if not os.path.isfile(i)]
    if missing:
        sys.exit(f"images not found: {', '.join(missing)} (the default ones are in ../shared/data/coco_mini_val2017)")
    os.makedirs(args.work, exist_ok=True)
    nativeseg = shlex.split(args.nativeseg)
    converted, onnx = prepare_models(args.work, nativeseg)
    ort = build_ort_console(args.work)

    ort_json = os.path.join(args.work, "ort.json")
    ours_json = {p: os.path.join(args.work, f"nativeseg-{p}.json") for p in args.precision}
    ours_command = {p: nativeseg + ["segment", *images, "--model", converted, "--device", "cpu", "--score-thresh", "0",
                                    "--precision", p, "--out", os.path.join(args.work, f"nativeseg-out-{p}"), "--json", ours_json[p]]
                    for p in args.precision}
    ort_command = [ort, "--model", onnx, "--threads", str(args.threads), "--json", ort_json, *images]
    env = dict(os.environ, NATIVESEG_THREADS=str(args.threads))
    print(f"{len(images)} images: {', '.join(os.path.basename(i) for i in images)}; {args.threads} threads; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    ours_all, ort_all = {p: [] for p in args.precision}, []
    for r in range(args.rounds):
        for p in args.precision:
            ours_all[p].append(timed(ours_command[p], env))
        ort_all.append(timed(ort_command))
        tw, tc = ort_all[-1]
        ours = "; ".join(f"nativeseg {p} {w:.2f} s wall, {c:.2f} s CPU ({detections(ours_json[p])} detections), "
                         f"ratio {w / tw:.2f} wall, {c / tc:.2f} CPU" for p in args.precision for w, c in [ours_all[p][-1]])
        print(f"round {r + 1}: {ours}; onnxruntime {tw:.2f} s wall, {tc:.2f} s CPU ({detections(ort_json)} detections); "
              f"load average {os.getloadavg()[0]:.2f}")
    for i, what in enumerate(("wall", "CPU")):
        o = statistics.median(t[i] for t in ort_all)
        for p in args.precision:
            n = statistics.median(t[i] for t in ours_all[p])
            print(f"median of {args.rounds} rounds, {what}: nativeseg {p} {n:.2f} s, onnxruntime {o:.2f} s, nativeseg/onnxruntime = {n / o:.2f}")

if __name__ == "__main__":
    main()
