#!/usr/bin/python3
"""NativeSeg's device pipeline against torchvision's Mask R-CNN R50-FPN on one GPU, fp32 and fp16, end to end and per
stage, at 800x1333; the result table is printed and, with --append, added to build/BENCHMARKS.md (issue 15).

Usage: python3 build/bench-maskrcnn-gpu.py [--device cuda|cpu] [--runs N] [--warmup W] [--nativeseg "COMMAND PREFIX"]
           [--append FILE] [--skip-nativeseg]

1. The weights: torchvision's maskrcnn_resnet50_fpn filled with tests/reference/hashed_weights.py values, exactly as
   build/bench-maskrcnn-torch.py makes them (imported from there), saved with torch.save and converted with
   `nativeseg convert`, so both sides run the same weights. Score threshold 0 on both, so each keeps its 100 best
   detections and the heads do equal work.
2. The image: an 800x1333 PNG (a COCO image from ../shared/data resized to it when present, else a synthetic one),
   so torchvision's resize and NativeSeg's are both the identity and both sides see the same pixels.
3. torchvision, per precision (eager fp32; torch.autocast("cuda", float16), which is what torch.cuda.amp.autocast
   does): W warm-up runs, then N timed runs of decode (PIL), upload, the model and the 0.5 threshold of the masks
   copied to the host; then N more runs with a device synchronisation after each stage (transform, backbone+FPN,
   RPN, RoI heads, paste) for the per-stage medians. torch keeps its defaults (cuDNN may use TF32 in fp32).
4. NativeSeg, per precision: `nativeseg bench model --device D [--precision fp16] --runs N --warmup W` on the same
   image; its stages come from its own clock (a synchronisation per stage, in the timed runs themselves).

"from decoded" is end to end less the PNG decode: both sides decode on the host the same way, and a 1.3-megapixel
PNG decode alone is several times the GPU work. On --device cpu (a slow dry run of the script without a GPU) both
fp16 rows are skipped: NativeSeg refuses fp16 on the CPU, and torch 1.13's CPU autocast has no float16 (its bfloat16
breaks torchvision's NMS).
Exits non-zero, saying why, on any failure.
"""
import argparse
import datetime
import importlib.util
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCH = "maskrcnn_resnet50_fpn_torchvision"
SIZE = (800, 1333)


def fail(message):
    print(f"bench-maskrcnn-gpu: error: {message}", file=sys.stderr)
    sys.exit(1)


def torch_bench():
    """build/bench-maskrcnn-torch.py, whose hashed model and test image this comparison shares (its name has dashes,
    so it is loaded by path)."""
    spec = importlib.util.spec_from_file_location("bench_maskrcnn_torch", os.path.join(ROOT, "build", "bench-maskrcnn-torch.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Torchvision:
    """One torchvision model on one device and precision, timed as NativeSeg's bench model times itself."""

    STAGES = ["upload", "transform", "backbone+fpn", "rpn", "roi heads", "paste", "threshold+copy back"]

    def __init__(self, model, device, half):
        self.model, self.device = model, torch.device(device)
        self.cuda = self.device.type == "cuda"
        self.dtype = torch.float16 if half else None

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None)

    @staticmethod
    def decode(path):
        return np.array(Image.open(path).convert("RGB"))

    def upload(self, pixels):
        return torch.from_numpy(pixels).to(self.device).permute(2, 0, 1).float().div_(255)

    def end_to_end(self, path):
        """(decode ms, end-to-end ms, detections) of one run."""
        self.sync()
        start = time.perf_counter()
        pixels = self.decode(path)
        decoded = time.perf_counter()
        with torch.no_grad(), self.autocast():
            out = self.model([self.upload(pixels)])[0]
        masks = (out["masks"] > 0.5).cpu()
        self.sync()
        end = time.perf_counter()
        if masks.shape[0] != len(out["scores"]):
            fail(f"torchvision returned {masks.shape[0]} masks for {len(out['scores'])} detections")
        return (decoded - start) * 1000, (end - start) * 1000, len(out["scores"])

    def staged(self, path):
        """Milliseconds per stage of one run, a synchronisation after each."""
        pixels = self.decode(path)
        laps = []
        self.sync()
        last = time.perf_counter()

        def lap():
            nonlocal last
            self.sync()
            now = time.perf_counter()
            laps.append((now - last) * 1000)
            last = now

        m = self.model
        with torch.no_grad(), self.autocast():
            x = self.upload(pixels)
            lap()
            images, _ = m.transform([x])
            lap()
            features = m.backbone(images.tensors)
            lap()
            proposals, _ = m.rpn(images, features)
            lap()
            detections, _ = m.roi_heads(features, proposals, images.image_sizes)
            lap()
            detections = m.transform.postprocess(detections, images.image_sizes, [tuple(x.shape[-2:])])
            lap()
        (detections[0]["masks"] > 0.5).cpu()
        lap()
        return laps

    def measure(self, path, runs, warmup):
        for _ in range(warmup):
            self.end_to_end(path)
        timed = [self.end_to_end(path) for _ in range(runs)]
        stages = [self.staged(path) for _ in range(runs)]
        decode = [t[0] for t in timed]
        total = [t[1] for t in timed]
        return {
            "decode": statistics.median(decode),
            "from decoded": statistics.median(t - d for d, t in zip(decode, total)),
            "end to end": statistics.median(total),
            "detections": timed[-1][2],
            "stages": {s: statistics.median(run[i] for run in stages) for i, s in enumerate(self.STAGES)},
        }


def nativeseg(prefix, model, image, device, precision, runs, warmup, json_path):
    command = prefix + ["bench", "model", "--model", model, "--image", image, "--device", device, "--precision", precision,
                        "--runs", str(runs), "--warmup", str(warmup), "--score-thresh", "0", "--json", json_path]
    print("$ " + " ".join(shlex.quote(c) for c in command), flush=True)
    proc = subprocess.run(command, capture_output=True, text=True)
    print(proc.stdout.rstrip())
    if proc.returncode != 0:
        fail(f"nativeseg bench model --precision {precision} failed (exit {proc.returncode}):\n{proc.stderr}")
    with open(json_path) as f:
        result = json.load(f)
    stages = result["stages"]
    decode, total = stages["decode"]["samples_ms"], stages["end to end"]["samples_ms"]
    return {
        "decode": statistics.median(decode),
        "from decoded": statistics.median(t - d for d, t in zip(decode, total)),
        "end to end": stages["end to end"]["median_ms"],
        "detections": result["detections"],
        "stages": {name: s["median_ms"] for name, s in stages.items() if name not in ("decode", "end to end")},
        "per image": result.get("per_image"),
    }


def device_description(device):
    if device == "cuda":
        p = torch.cuda.get_device_properties(0)
        return f"{p.name} ({p.total_memory / 2**30:.0f} GiB), CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}"
    return f"CPU, {torch.get_num_threads()} torch threads"


def table(results, args, source, device_name):
    """The markdown section: setup, end-to-end table, goals, per-stage tables."""
    fp32 = results[("torchvision", "fp32")]["from decoded"]
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Mask R-CNN R50-FPN, NativeSeg's device pipeline against torchvision on {device_name} (issue 15)",
        "",
        f"`build/bench-maskrcnn-gpu.py --device {args.device} --runs {args.runs} --warmup {args.warmup}` (run by `build/gpu-check.sh`), {now}: "
        f"torch {torch.__version__}, torchvision {torchvision.__version__}; the same hashed weights on both sides (converted with "
        f"`nativeseg convert`), {source} at {SIZE[0]}x{SIZE[1]} (both resizes are the identity), score threshold 0, "
        f"median of {args.runs} runs after {args.warmup} warm-up. \"from decoded\" leaves out the PNG decode both sides do on the host.",
        "",
        "| pipeline | precision | decode ms | from decoded ms | end to end ms | from decoded / torchvision fp32 | detections |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (side, precision), r in results.items():
        if r is None:
            lines.append(f"| {side} | {precision} | – | – | – | – | skipped |")
            continue
        lines.append(f"| {side} | {precision} | {r['decode']:.2f} | {r['from decoded']:.2f} | {r['end to end']:.2f} | "
                     f"{r['from decoded'] / fp32:.2f} | {r['detections']} |")
    ours32, ours16 = results.get(("NativeSeg", "fp32")), results.get(("NativeSeg", "fp16"))
    lines.append("")
    # The goals are for a GPU; on a CPU dry run they mean nothing.
    if args.device != "cuda":
        ours32 = ours16 = None
    if ours32:
        ratio = ours32["from decoded"] / fp32
        lines.append(f"Goal NativeSeg fp32 ≤ 0.5× torchvision eager fp32: {ratio:.2f}×, {'met' if ratio <= 0.5 else 'not met'}.")
    if ours16:
        ms = ours16["from decoded"]
        lines.append(f"Goal NativeSeg fp16 ≤ 8 ms per image (from decoded): {ms:.2f} ms, {'met' if ms <= 8 else 'not met'}.")
    for side in ("torchvision", "NativeSeg"):
        runs = [(p, r) for (s, p), r in results.items() if s == side and r is not None]
        if not runs:
            continue
        stages = list(dict.fromkeys(name for _, r in runs for name in r["stages"]))
        lines += ["", f"{side} per stage (median ms, a synchronisation at each stage's end):", "",
                  "| stage | " + " | ".join(p for p, _ in runs) + " |", "|---|" + "---:|" * len(runs)]
        for name in stages:
            lines.append(f"| {name} | " + " | ".join(f"{r['stages'][name]:.2f}" if name in r["stages"] else "–" for _, r in runs) + " |")
    for (side, precision), r in results.items():
        if r and r.get("per image"):
            t = r["per image"]
            lines.append(f"\nNativeSeg {precision} per image: {t['host_to_device_copies']} host-to-device copies "
                         f"({t.get('host_to_device_bytes', '?')} bytes), {t['device_to_host_copies']} device-to-host "
                         f"({t.get('device_to_host_bytes', '?')} bytes), {t['synchronizations']} synchronisations.")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--runs", type=int, default=30, help="timed runs per side and precision (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed runs first (default 5)")
    parser.add_argument("--nativeseg", default=os.path.join(ROOT, "publish", "nativeseg"), help="command that runs the nativeseg CLI")
    parser.add_argument("--skip-nativeseg", action="store_true", help="time torchvision only")
    parser.add_argument("--append", metavar="FILE", help="append the result section to FILE (build/BENCHMARKS.md)")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error(f"--runs must be at least 1 and --warmup at least 0, got {args.runs} and {args.warmup}")
    if args.device == "cuda" and not torch.cuda.is_available():
        fail(f"--device cuda, but torch {torch.__version__} sees no CUDA device")
    if args.append and not os.path.isfile(args.append):
        fail(f"--append {args.append}: no such file")
    prefix = shlex.split(args.nativeseg)

    with tempfile.TemporaryDirectory() as tmp:
        shared = torch_bench()
        model = shared.hashed_model()
        pth, converted = os.path.join(tmp, "model.pth"), os.path.join(tmp, "model.safetensors")
        if not args.skip_nativeseg:
            # Saved from the CPU so the checkpoint's storages carry no device location.
            torch.save(model.state_dict(), pth)
            proc = subprocess.run(prefix + ["convert", pth, "--out", converted, "--arch", ARCH], capture_output=True, text=True)
            if proc.returncode != 0:
                fail(f"nativeseg convert failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        model = model.to(args.device)
        image = os.path.join(tmp, "image.png")
        source = os.path.basename(shared.write_image(image, SIZE))
        device_name = device_description(args.device)
        print(f"{device_name}; {source} at {SIZE[0]}x{SIZE[1]}; torch {torch.__version__}, torchvision {torchvision.__version__}", flush=True)

        results = {}
        for precision in ("fp32", "fp16"):
            half = precision == "fp16"
            if half and args.device == "cpu":
                results[("torchvision", precision)] = None
                continue
            print(f"torchvision {precision}...", flush=True)
            results[("torchvision", precision)] = Torchvision(model, args.device, half).measure(image, args.runs, args.warmup)
        for precision in ("fp32", "fp16"):
            if args.skip_nativeseg or (precision == "fp16" and args.device == "cpu"):
                results[("NativeSeg", precision)] = None
                continue
            results[("NativeSeg", precision)] = nativeseg(prefix, converted, image, args.device, precision, args.runs, args.warmup,
                                                         os.path.join(tmp, f"bench-{precision}.json"))

        section = table(results, args, source, device_name)
        print()
        print(section)
        if args.append:
            with open(args.append, "a") as f:
                f.write("\n" + section)
            print(f"appended to {args.append}")


if __name__ == "__main__":
    main()
