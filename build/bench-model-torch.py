#!/usr/bin/python3
"""torch 1.13 timing of torchvision's R50-FPN backbone (ResNet-50 body + FPN, P2..P6) on one image.

Usage: /usr/bin/python3 build/bench-model-torch.py [--threads N] [--height H] [--width W] [--repeats N]

The input is the padded batch the backbone sees: an 800x1067 image padded to a multiple of 32 is 800x1088.
Weights are random (speed does not depend on them); BatchNorm is torchvision's eval BatchNorm2d, which the
C# engine folds into the convs, so this is the unfused reference as users run it. Prints the median of the
timed runs after one warm-up, in milliseconds, both wall clock and CPU time of the process (all threads): on a
shared machine the CPU time is the steadier number.
"""
import argparse
import statistics
import time

import torch
import torchvision


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--height", type=int, default=800)
    parser.add_argument("--width", type=int, default=1088)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    backbone = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None).backbone.eval()
    x = torch.randn(1, 3, args.height, args.width)
    times, cpu = [], []
    with torch.no_grad():
        backbone(x)
        for _ in range(args.repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            backbone(x)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
    print(f"torch {torch.__version__} R50-FPN backbone 1x3x{args.height}x{args.width}, {args.threads} threads: "
          f"median {statistics.median(times):.0f} ms wall, {statistics.median(cpu):.0f} ms CPU over {args.repeats} "
          f"({', '.join(f'{t:.0f}' for t in times)})")


if __name__ == "__main__":
    main()
