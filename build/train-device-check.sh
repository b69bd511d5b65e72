#!/usr/bin/env bash
# One short finetune of the default model on CUDA and on the CPU from the same seed, then the loss terms of
# the first iterations compared: same weights, same batch, same sampled anchors and RoIs, so they differ only
# by float rounding (later iterations drift apart as CUDA's atomic adds reorder sums).
#   build/train-device-check.sh [NATIVESEG_BINARY]   (default: publish/nativeseg)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-publish/nativeseg}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" synth --out "$work/data" --images 4 --seed 21 --size 160x128 --classes 6 --instances 6
for device in cpu cuda; do
  "$bin" train --model weights/default.safetensors --annotations "$work/data/annotations.json" --images "$work/data" \
    --out "$work/$device" --iters 2 --batch 2 --lr 0.002 --min-size 128 --max-size 160 --seed 3 --device "$device"
done
python3 - "$work/cpu/metrics.jsonl" "$work/cuda/metrics.jsonl" <<'PY'
import json, sys
cpu, cuda = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
worst = 0.0
for a, b in zip(cpu[:1], cuda[:1]):
    for key in a:
        if key.startswith("loss"):
            rel = abs(a[key] - b[key]) / max(abs(a[key]), 1e-6)
            worst = max(worst, rel)
            print(f"iter {a['iter']} {key}: cpu {a[key]:.6f} cuda {b[key]:.6f} relative {rel:.2e}")
print(f"worst relative difference of the first iteration's losses: {worst:.2e}")
sys.exit(0 if worst <= 1e-3 else 1)
PY
