#!/usr/bin/python3
"""torch 1.13 timings for the cases of `nativeseg bench kernels`, to compare side by side.

Usage: /usr/bin/python3 build/bench-torch.py [--device cpu|cuda] [--threads N] [--filter TEXT]
           [--sizes small|paper|large] [--repeats N] [--warmup N] [--json OUT]

Case names ("op/label") are the same as the C# benchmarks' (src/Kernels/*/*Benchmark.cs), so the two
tables and JSON files line up row by row; keep the CASES table in step when a benchmark changes. The
timing protocol is the same too: warm-up runs, then timed runs over two rotated input copies, median
and p10/p90, FLOP and byte counts from the sizes alone.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


def conv2d(name, n, c, h, w, k, r, stride, padding, groups, relu):
    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        x = (torch.rand(n, c, h, w, generator=g) * 2 - 1).to(device)
        wt = ((torch.rand(k, c // groups, r, r, generator=g) * 2 - 1) * 0.05).to(device)
        b = (torch.rand(k, generator=g) * 2 - 1).to(device)

        def run():
            y = F.conv2d(x, wt, b, stride=stride, padding=padding, groups=groups)
            return F.relu_(y) if relu else y
        return run
    out_h = (h + 2 * padding - r) // stride + 1
    out_w = (w + 2 * padding - r) // stride + 1
    macs = n * k * out_h * out_w * (c // groups) * r * r
    nbytes = 4 * (n * c * h * w + k * (c // groups) * r * r + k + n * k * out_h * out_w)
    return (f"conv2d/{name} {n}x{c}x{h}x{w}", 2 * macs, nbytes, setup)


def conv_transpose2d(name, n, cin, h, w, cout, r, stride, padding, groups, relu):
    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        x = (torch.rand(n, cin, h, w, generator=g) * 2 - 1).to(device)
        wt = ((torch.rand(cin, cout // groups, r, r, generator=g) * 2 - 1) * 0.05).to(device)
        b = (torch.rand(cout, generator=g) * 2 - 1).to(device)

        def run():
            y = F.conv_transpose2d(x, wt, b, stride=stride, padding=padding, groups=groups)
            return F.relu_(y) if relu else y
        return run
    out_h = (h - 1) * stride - 2 * padding + r
    out_w = (w - 1) * stride - 2 * padding + r
    macs = n * cin * h * w * (cout // groups) * r * r
    nbytes = 4 * (n * cin * h * w + cin * (cout // groups) * r * r + cout + n * cout * out_h * out_w)
    return (f"conv_transpose2d/{name} {n}x{cin}x{h}x{w}", 2 * macs, nbytes, setup)


def linear(name, rows, fin, fout, relu):
    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        x = (torch.rand(rows, fin, generator=g) * 2 - 1).to(device)
        wt = ((torch.rand(fout, fin, generator=g) * 2 - 1) * 0.05).to(device)
        b = (torch.rand(fout, generator=g) * 2 - 1).to(device)

        def run():
            y = F.linear(x, wt, b)
            return F.relu_(y) if relu else y
        return run
    return (f"linear/{name} {rows}x{fin}", 2 * rows * fin * fout, 4 * (rows * fin + fout * fin + fout + rows * fout), setup)


def relu(*shape):
    numel = 1
    for d in shape:
        numel *= d

    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        x = (torch.rand(*shape, generator=g) * 2 - 1).to(device)
        return lambda: F.relu(x)
    return ("relu/" + "x".join(map(str, shape)), numel, 8 * numel, setup)


CASES = {
    "small": [
        conv2d("3x3-32", 1, 32, 34, 50, 32, 3, 1, 1, 1, True),
        conv2d("1x1-64", 2, 64, 17, 25, 48, 1, 1, 0, 1, False),
        conv2d("3x3-s2-grouped", 1, 32, 33, 41, 32, 3, 2, 1, 4, True),
        conv_transpose2d("2x2-s2-32", 8, 32, 14, 14, 32, 2, 2, 0, 1, True),
        conv_transpose2d("4x4-s2-grouped", 1, 32, 20, 30, 32, 4, 2, 1, 2, False),
        linear("fc-256-128", 64, 256, 128, True),
        linear("fc-odd", 33, 300, 77, False),
        relu(1, 64, 56, 56),
        relu(3, 5, 7, 11),
    ],
    "paper": [
        conv2d("stem-7x7-s2", 1, 3, 800, 1088, 64, 7, 2, 3, 1, True),
        conv2d("res2-1x1-256-64", 1, 256, 200, 272, 64, 1, 1, 0, 1, True),
        conv2d("fpn-3x3-256", 1, 256, 200, 272, 256, 3, 1, 1, 1, False),
        conv2d("res4-3x3-256", 1, 256, 50, 68, 256, 3, 1, 1, 1, True),
        conv2d("mask-head-3x3-256", 100, 256, 14, 14, 256, 3, 1, 1, 1, True),
        conv_transpose2d("mask-head-2x2-s2", 100, 256, 14, 14, 256, 2, 2, 0, 1, True),
        conv_transpose2d("upsample-4x4-s2", 1, 256, 100, 136, 128, 4, 2, 1, 1, False),
        linear("box-fc6", 1000, 12544, 1024, True),
        linear("box-fc7", 1000, 1024, 1024, True),
        linear("box-predictor", 1000, 1024, 405, False),
        relu(1, 256, 200, 272),
        relu(1, 64, 400, 544),
    ],
    "large": [
        conv2d("fpn-3x3-256-b2", 2, 256, 200, 272, 256, 3, 1, 1, 1, False),
        conv2d("res5-3x3-512-s2", 1, 512, 100, 136, 512, 3, 2, 1, 1, True),
        conv2d("resnext-3x3-g32", 1, 512, 100, 136, 512, 3, 1, 1, 32, True),
        conv_transpose2d("mask-head-2x2-s2-b512", 512, 256, 14, 14, 256, 2, 2, 0, 1, True),
        linear("box-fc6-b4", 4000, 12544, 1024, True),
        relu(2, 256, 400, 544),
    ],
}


def percentile(sorted_ms, p):
    pos = p / 100 * (len(sorted_ms) - 1)
    lo, hi = int(pos), min(int(pos) + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (pos - lo)


def measure(setup, device, repeats, warmup, copies=2, max_seconds=20.0):
    runs = [setup(device, 10 * i + 1) for i in range(copies)]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    copy = 0
    with torch.no_grad():
        for _ in range(warmup):
            runs[copy % copies]()
            copy += 1
        sync()
        times = []
        start = time.perf_counter()
        while len(times) < repeats and (len(times) < min(3, repeats) or time.perf_counter() - start < max_seconds):
            if device == "cuda":
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                runs[copy % copies]()
                b.record()
                b.synchronize()
                times.append(a.elapsed_time(b))
            else:
                t0 = time.perf_counter()
                runs[copy % copies]()
                times.append((time.perf_counter() - t0) * 1e3)
            copy += 1
    return sorted(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--filter", default=None, help="only cases whose name contains this text")
    parser.add_argument("--sizes", default="paper", choices=sorted(CASES))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cases = [c for c in CASES[args.sizes] if args.filter is None or args.filter.lower() in c[0].lower()]
    if not cases:
        raise SystemExit(f"no case matches '{args.filter}' in the {args.sizes} sizes")
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__} on {args.device}, {threads} threads, {args.sizes} sizes, "
          f"median of {args.repeats} runs after {args.warmup} warm-up")
    width = max(4, max(len(c[0]) for c in cases))
    print(f"{'case'.ljust(width)}  {'median ms':>10}  {'p10':>9}  {'p90':>9}  {'min':>9}  {'max':>9}  {'GFLOP/s':>8}  {'GB/s':>7}")
    results = []
    for name, flops, nbytes, setup in cases:
        ms = measure(setup, args.device, args.repeats, args.warmup)
        med = statistics.median(ms)
        row = {"name": name, "runs": len(ms), "median_ms": med, "p10_ms": percentile(ms, 10), "p90_ms": percentile(ms, 90),
               "min_ms": ms[0], "max_ms": ms[-1], "flops": flops, "bytes": nbytes,
               "gflops_per_s": flops / (med * 1e6), "gbytes_per_s": nbytes / (med * 1e6), "samples_ms": ms}
        results.append(row)
        print(f"{name.ljust(width)}  {med:10.3f}  {row['p10_ms']:9.3f}  {row['p90_ms']:9.3f}  {ms[0]:9.3f}  {ms[-1]:9.3f}  "
              f"{row['gflops_per_s']:8.1f}  {row['gbytes_per_s']:7.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": args.device, "threads": threads, "sizes": args.sizes, "torch": torch.__version__,
                       "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
