#!/usr/bin/python3
"""torch 1.13 timings for the cases of `nativeseg bench kernels`, to compare side by side.

Usage: /usr/bin/python3 build/bench-torch.py [--device cpu|cuda] [--threads N] [--filter TEXT]
           [--sizes small|paper|large] [--repeats N] [--warmup N] [--json OUT] [--ours NATIVESEG]

With --ours (the nativeseg executable, e.g. publish/nativeseg), the same cases are first timed by
`nativeseg bench kernels --json` with the same device, thread count, sizes and filter, and the table
ends with ours / theirs per case (median over median: below 1 means NativeSeg is faster).

Case names ("op/label") are the same as the C# benchmarks' (src/Kernels/*/*Benchmark.cs), so the two
tables and JSON files line up row by row; keep the CASES table in step when a benchmark changes. The
timing protocol is the same too: warm-up runs, then timed runs over two rotated input copies, median
and p10/p90, FLOP and byte counts from the sizes alone.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn.functional as F
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.roi_heads import paste_masks_in_image


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


def numel_of(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def uniform(g, shape, low, high):
    return torch.rand(*shape, generator=g) * (high - low) + low


def sigmoid(*shape):
    n = numel_of(shape)

    def setup(device, seed):
        x = uniform(torch.Generator().manual_seed(seed), shape, -8, 8).to(device)
        return lambda: torch.sigmoid(x)
    return ("sigmoid/" + "x".join(map(str, shape)), 4 * n, 8 * n, setup)


def elementwise(op, shape):
    n = numel_of(shape)

    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        a = uniform(g, shape, -1, 1).to(device)
        b = (uniform(g, [shape[1]], 0.5, 2) if op == "mul_channel" else uniform(g, shape, -1, 1)).to(device)
        if op == "add":
            return lambda: a + b
        if op == "add_relu":
            return lambda: torch.relu_(a + b)
        if op == "mul_channel":
            v = b.view(1, -1, *([1] * (len(shape) - 2)))
            return lambda: a * v
        return lambda: a.mul(1 / 57.4).add_(-123.7 / 57.4)
    reads = 2 if op in ("add", "add_relu") else 1
    flops = 2 * n if op in ("add_relu", "affine") else n
    return (f"elementwise/{op} " + "x".join(map(str, shape)), flops, (reads + 1) * n * 4, setup)


DTYPES = {"uint8": (torch.uint8, 1), "float16": (torch.float16, 2), "float32": (torch.float32, 4)}


def cast(src, dst, shape):
    n = numel_of(shape)

    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        if src == "uint8":
            x = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8).to(device)
        else:
            x = uniform(g, shape, -4, 4).to(DTYPES[src][0]).to(device)
        return lambda: x.to(DTYPES[dst][0])
    return (f"cast/{src}-{dst} " + "x".join(map(str, shape)), n, n * (DTYPES[src][1] + DTYPES[dst][1]), setup)


def group_norm(*shape):
    n = numel_of(shape)

    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        x = uniform(g, shape, -1, 3).to(device)
        gamma = uniform(g, [shape[1]], 0.5, 1.5).to(device)
        beta = uniform(g, [shape[1]], -0.5, 0.5).to(device)
        return lambda: F.relu_(F.group_norm(x, 32, gamma, beta, 1e-5))
    return ("group_norm/gn32-relu " + "x".join(map(str, shape)), 6 * n, 8 * n + 8 * shape[1], setup)


def max_pool2d(name, shape, k, stride, pad):
    oh, ow = (shape[2] + 2 * pad - k) // stride + 1, (shape[3] + 2 * pad - k) // stride + 1
    outputs = shape[0] * shape[1] * oh * ow

    def setup(device, seed):
        x = uniform(torch.Generator().manual_seed(seed), shape, -1, 1).to(device)
        return lambda: F.max_pool2d(x, k, stride, pad)
    return (f"max_pool2d/{name} " + "x".join(map(str, shape)), outputs * k * k, (numel_of(shape) + outputs) * 4, setup)


def resize(name, bilinear, shape, oh, ow):
    outputs = shape[0] * shape[1] * oh * ow

    def setup(device, seed):
        x = uniform(torch.Generator().manual_seed(seed), shape, -1, 1).to(device)
        if bilinear:
            return lambda: F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)
        return lambda: F.interpolate(x, size=(oh, ow), mode="nearest")
    return (f"resize/{name} " + "x".join(map(str, shape)) + f"-{oh}x{ow}", 8 * outputs if bilinear else 0,
            (numel_of(shape) + outputs) * 4, setup)


def softmax(name, rows, cols):
    def setup(device, seed):
        x = uniform(torch.Generator().manual_seed(seed), [rows, cols], -6, 6).to(device)
        return lambda: torch.softmax(x, -1)
    return (f"softmax/{name} {rows}x{cols}", 5 * rows * cols, 8 * rows * cols, setup)


def topk(name, rows, cols, k):
    def setup(device, seed):
        x = (torch.randn(rows, cols, generator=torch.Generator().manual_seed(seed)) * 3).to(device)
        return lambda: torch.topk(x, k, dim=-1)
    return (f"topk/{name} {rows}x{cols} k{k}", rows * cols, rows * cols * 4 + rows * k * 12, setup)


def indexing(op, dtype, levels, columns, gathered):
    size = DTYPES[dtype][1]
    row = columns * size

    def values(g, rows):
        if dtype == "uint8":
            return torch.randint(0, 256, (rows, columns), generator=g, dtype=torch.uint8)
        return uniform(g, [rows, columns], -1, 1)

    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        xs = [values(g, n).to(device) for n in levels]
        if op == "concat":
            return lambda: torch.cat(xs, 0)
        index = torch.randint(0, levels[0], (gathered,), generator=g).to(device)
        return lambda: xs[0].index_select(0, index)
    if op == "concat":
        return (f"indexing/concat-{dtype} " + "+".join(map(str, levels)), 0, 2 * sum(levels) * row, setup)
    return (f"indexing/gather-{dtype} {gathered}-of-{levels[0]}x{columns}", 0, gathered * (2 * row + 8), setup)


IMAGE_H, IMAGE_W = 800, 1333


def anchor_like_boxes(g, count):
    u = torch.rand(count, 4, generator=g)
    cx, cy = u[:, 0] * IMAGE_W, u[:, 1] * IMAGE_H
    w, h = 8 * 88 ** u[:, 2], 8 * 88 ** u[:, 3]
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)


def box_coder(name, boxes, classes):
    outputs = boxes * classes
    keep = name == "keep"
    weights = (1.0, 1.0, 1.0, 1.0) if classes == 1 else (10.0, 10.0, 5.0, 5.0)

    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        deltas = (torch.randn(boxes, 4 * classes, generator=g) * 0.5).to(device)
        refs = anchor_like_boxes(g, boxes).to(device)
        if keep:
            return lambda: torchvision.ops.remove_small_boxes(refs, 1e-3)
        coder = det_utils.BoxCoder(weights, math.log(1000.0 / 16))

        def run():
            decoded = coder.decode_single(deltas, refs).reshape(boxes, classes, 4)
            return torchvision.ops.clip_boxes_to_image(decoded, (IMAGE_H, IMAGE_W))
        return run
    label = f"{name} {boxes}" if classes == 1 else f"{name} {boxes}x{classes}"
    cost = (4 * outputs, outputs * 17) if keep else (20 * outputs, (outputs * 8 + boxes * 4) * 4)
    return (f"box_coder/{label}", cost[0], cost[1], setup)


def proposal_rois(g, count, image_h, image_w):
    u = torch.rand(count, 4, generator=g)
    w = torch.clamp(16 * 50 ** u[:, 0], max=image_w - 1)
    h = torch.clamp(16 * 50 ** u[:, 1], max=image_h - 1)
    x, y = u[:, 2] * (image_w - w), u[:, 3] * (image_h - h)
    return torch.stack([torch.zeros(count), x, y, x + w, y + h], 1)


def fpn_levels(rois, rule):
    """Level index 0..3 (P2..P5) of each RoI: detectron2's assign_boxes_to_levels or torchvision's LevelMapper."""
    size = torch.sqrt((rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2]))
    if rule == "detectron2":
        level = torch.floor(4 + torch.log2(size / 224 + 1e-8))
    else:
        level = torch.floor(4 + torch.log2(size / 224) + 1e-6)
    return (torch.clamp(level, 2, 5) - 2).to(torch.int64)


def roi_levels(rule, count):
    def setup(device, seed):
        rois = proposal_rois(torch.Generator().manual_seed(seed), count, IMAGE_H, IMAGE_W).to(device)
        return lambda: fpn_levels(rois, rule)
    return (f"roi_levels/{rule} {count}", 10 * count, count * 24, setup)


def roi_align(name, count, channels, output, sampling, aligned, image_h=IMAGE_H, image_w=IMAGE_W):
    h, w = (image_h + 31) // 32 * 32, (image_w + 31) // 32 * 32
    shapes = [(h // s, w // s) for s in (4, 8, 16, 32)]

    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        features = [uniform(g, [1, channels, fh, fw], -1, 1).to(device) for fh, fw in shapes]
        rois = proposal_rois(g, count, image_h, image_w).to(device)
        levels = fpn_levels(rois, "detectron2" if aligned else "torchvision")
        # What MultiScaleRoIAlign (and detectron2's ROIPooler) do: one roi_align per level, scattered back.
        groups = [(torch.nonzero(levels == l).squeeze(1), 1.0 / 2 ** (l + 2)) for l in range(4)]

        def run():
            result = torch.zeros(count, channels, output, output, device=device)
            for l, (index, scale) in enumerate(groups):
                result[index] = torchvision.ops.roi_align(features[l], rois[index], output, scale, sampling, aligned)
            return result
        return run
    outputs = count * channels * output * output
    feature_numel = sum(channels * fh * fw for fh, fw in shapes)
    return (f"roi_align/{name} {count}x{channels}x{output}x{output}", outputs * 32,
            (feature_numel + count * 6 + outputs) * 4, setup)


def random_detections(g, n, classes):
    """Boxes clustered around n/24 centres with sizes within ±20%, a tenth exact copies: IoUs spread around the thresholds."""
    centres = torch.rand(max(1, n // 24), 4, generator=g) * torch.tensor([600.0, 400.0, 90.0, 90.0]) + torch.tensor([0.0, 0.0, 10.0, 10.0])
    pick = centres[torch.randint(0, centres.shape[0], (n,), generator=g)]
    u = torch.rand(n, 4, generator=g)
    x = pick[:, 0] + (u[:, 0] - 0.5) * 0.3 * pick[:, 2]
    y = pick[:, 1] + (u[:, 1] - 0.5) * 0.3 * pick[:, 3]
    w, h = pick[:, 2] * (0.8 + u[:, 2] * 0.4), pick[:, 3] * (0.8 + u[:, 3] * 0.4)
    boxes = torch.stack([x, y, x + w, y + h], 1)
    copies = torch.arange(9, n, 10)
    boxes[copies] = boxes[(torch.rand(copies.shape[0], generator=g) * copies).to(torch.int64)]
    return boxes, torch.rand(n, generator=g), torch.randint(0, classes, (n,), generator=g)


def nms(name, count, classes, threshold):
    def setup(device, seed):
        boxes, scores, idxs = (t.to(device) for t in random_detections(torch.Generator().manual_seed(seed), count, classes))
        return lambda: torchvision.ops.batched_nms(boxes, scores, idxs, threshold)
    return (f"nms/{name} {count}", count * (count - 1) // 2 * 12, count * 36, setup)


def paste_boxes(g, count, height, width):
    """Boxes up to 80% of the image, some overhanging an edge, but all overlapping it: torchvision's
    paste_masks_in_image fails on a box wholly outside the image, which NativeSeg's cases include."""
    u = torch.rand(count, 4, generator=g)
    w, h = (0.05 + u[:, 0] * 0.75) * width, (0.05 + u[:, 1] * 0.75) * height
    x, y = u[:, 2] * (width - 0.6 * w) - 0.2 * w, u[:, 3] * (height - 0.6 * h) - 0.2 * h
    return torch.stack([x, y, x + w, y + h], 1)


def mask_paste(count, height, width, probabilities):
    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        masks = torch.rand(count, 1, 28, 28, generator=g).to(device)
        boxes = paste_boxes(g, count, height, width).to(device)
        if probabilities:
            return lambda: paste_masks_in_image(masks, boxes, (height, width), padding=1)
        return lambda: paste_masks_in_image(masks, boxes, (height, width), padding=1) > 0.5
    pixels = count * height * width
    op = "mask_paste_prob" if probabilities else "mask_paste"
    return (f"{op}/torchvision {count}x{height}x{width}", pixels // 10 * 8,
            count * (28 * 28 + 4) * 4 + pixels * (4 if probabilities else 1), setup)


def deform_conv2d(name, c, h, w, k, stride):
    out_h, out_w = (h - 1) // stride + 1, (w - 1) // stride + 1

    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        x = uniform(g, [1, c, h, w], -1, 1).to(device)
        offset = uniform(g, [1, 18, out_h, out_w], -2, 2).to(device)
        mask = uniform(g, [1, 9, out_h, out_w], 0, 1).to(device)
        weight = uniform(g, [k, c, 3, 3], -0.05, 0.05).to(device)
        bias = uniform(g, [k], -1, 1).to(device)
        return lambda: torchvision.ops.deform_conv2d(x, offset, weight, bias, stride=stride, padding=1, mask=mask)
    pixels = out_h * out_w
    flops = 2 * k * c * 9 * pixels + 9 * c * 9 * pixels
    return (f"deform_conv2d/{name} 1x{c}x{h}x{w}", flops, 4 * (c * h * w + 27 * pixels + k * c * 9 + k * pixels), setup)


def softmax_blend(items, k, side):
    """BlendMask's blend after pooling and upsampling, as adet's blender writes it."""
    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        logits = uniform(g, [items, k, side, side], -4, 4).to(device)
        values = uniform(g, [items, k, side, side], -3, 3).to(device)
        return lambda: (values * logits.softmax(dim=1)).sum(dim=1).sigmoid()
    outputs = items * side * side
    return (f"softmax_blend/{items}x{k}x{side}x{side}", outputs * (6 * k + 4), (2 * k + 1) * outputs * 4, setup)


def ceiling_copy(mib):
    nbytes = mib << 20

    def setup(device, seed):
        src = uniform(torch.Generator().manual_seed(seed), [nbytes // 4], -1, 1).to(device)
        dst = torch.empty_like(src)
        return lambda: dst.copy_(src)
    return (f"ceiling/copy {mib}MiB", 0, 2 * nbytes, setup)


def ceiling_sgemm(n):
    def setup(device, seed):
        g = torch.Generator().manual_seed(seed)
        a, b = uniform(g, [n, n], -1, 1).to(device), uniform(g, [n, n], -1, 1).to(device)
        c = torch.empty(n, n, device=device)
        return lambda: torch.mm(a, b, out=c)
    return (f"ceiling/sgemm {n}x{n}x{n}", 2 * n ** 3, 12 * n * n, setup)


def shared_cases(preset):
    """The cases of the benchmarks added with issue 7, for each preset (sizes as in their *Benchmark.cs)."""
    if preset == "small":
        feats, image, cast_image, levels, gathered = [1, 16, 30, 40], [1, 3, 120, 160], [1, 3, 120, 160], [3000, 750, 189, 51, 15], 300
        return [
            ceiling_copy(16), ceiling_sgemm(512),
            sigmoid(10, 4, 28, 28),
            *(elementwise(op, feats) for op in ("add", "add_relu", "mul_channel")), elementwise("affine", image),
            cast("uint8", "float32", cast_image), cast("float32", "float16", feats), cast("float16", "float32", feats),
            group_norm(1, 64, 30, 40),
            max_pool2d("stem-3x3-s2", [1, 16, 60, 80], 3, 2, 1), max_pool2d("p6-1x1-s2", [1, 16, 7, 9], 1, 2, 0),
            resize("fpn-nearest-2x", False, [1, 16, 15, 21], 30, 42), resize("image-bilinear", True, [1, 3, 60, 80], 100, 133),
            softmax("box-classes", 100, 81), softmax("roi-attention", 1960, 196),
            topk("rpn-p2", 1, 40000, 200), topk("rows", 8, 1000, 10),
            indexing("concat", "float32", levels, 1, 0), indexing("concat", "uint8", levels, 1, 0),
            indexing("gather", "float32", [sum(levels)], 4, gathered), indexing("gather", "uint8", [sum(levels)], 1, gathered),
            box_coder("rpn-decode", 3000, 1), box_coder("head-decode", 100, 81), box_coder("keep", 3000, 1),
            roi_levels("detectron2", 50),
            roi_align("box-d2", 50, 16, 7, 0, True, 128, 160), roi_align("mask-tv", 20, 16, 14, 2, False, 128, 160),
            nms("rpn", 300, 5, 0.7),
            mask_paste(10, 120, 160, False), mask_paste(10, 120, 160, True),
            deform_conv2d("3x3-32", 32, 34, 50, 32, 1), softmax_blend(10, 4, 56),
        ]
    if preset == "paper":
        feats, image, levels = [1, 256, 200, 336], [1, 3, 800, 1344], [200400, 50100, 12600, 3150, 819]
        return [
            ceiling_copy(256), ceiling_sgemm(4096),
            sigmoid(100, 80, 28, 28),
            *(elementwise(op, feats) for op in ("add", "add_relu", "mul_channel")), elementwise("affine", image),
            cast("uint8", "float32", [1, 3, 800, 1333]), cast("float32", "float16", feats), cast("float16", "float32", feats),
            group_norm(1, 256, 100, 168), group_norm(1, 256, 200, 336),
            max_pool2d("stem-3x3-s2", [1, 64, 400, 672], 3, 2, 1), max_pool2d("p6-1x1-s2", [1, 256, 25, 42], 1, 2, 0),
            resize("fpn-nearest-2x", False, [1, 256, 100, 168], 200, 336), resize("image-bilinear", True, [1, 3, 480, 640], 800, 1067),
            softmax("box-classes", 1000, 81), softmax("roi-attention", 19600, 196),
            topk("rpn-p2", 1, 200400, 1000), topk("rows", 100, 1000, 100),
            indexing("concat", "float32", levels, 1, 0), indexing("concat", "uint8", levels, 1, 0),
            indexing("gather", "float32", [sum(levels)], 4, 4000), indexing("gather", "uint8", [sum(levels)], 1, 4000),
            box_coder("rpn-decode", 267582, 1), box_coder("head-decode", 1000, 81), box_coder("keep", 267582, 1),
            roi_levels("detectron2", 1000), roi_levels("torchvision", 1000),
            roi_align("box-d2", 1000, 256, 7, 0, True), roi_align("box-tv", 1000, 256, 7, 2, False),
            roi_align("mask-d2", 1000, 256, 14, 0, True), roi_align("mask-tv", 1000, 256, 14, 2, False),
            nms("rpn", 1000, 5, 0.7), nms("rpn", 10000, 5, 0.7), nms("box-head", 10000, 80, 0.5),
            mask_paste(100, 800, 1216, False), mask_paste(100, 800, 1216, True),
            deform_conv2d("res3-3x3-128", 128, 100, 136, 128, 1), deform_conv2d("res4-3x3-256", 256, 50, 68, 256, 1),
            deform_conv2d("res5-3x3-512", 512, 25, 34, 512, 1), softmax_blend(100, 4, 56),
        ]
    levels = [4 * n for n in (200400, 50100, 12600, 3150, 819)]
    return [
        ceiling_copy(1024), ceiling_sgemm(8192),
        sigmoid(1000, 80, 28, 28),
        *(elementwise(op, [2, 256, 400, 672]) for op in ("add", "add_relu", "mul_channel")), elementwise("affine", [8, 3, 800, 1344]),
        cast("uint8", "float32", [8, 3, 800, 1333]), cast("float32", "float16", [2, 256, 400, 672]), cast("float16", "float32", [2, 256, 400, 672]),
        group_norm(2, 256, 400, 672),
        max_pool2d("stem-3x3-s2", [8, 64, 400, 672], 3, 2, 1),
        resize("fpn-nearest-2x", False, [2, 256, 200, 336], 400, 672),
        softmax("roi-attention", 196000, 196),
        topk("rpn-p2", 8, 200400, 1000),
        indexing("concat", "float32", levels, 1, 0), indexing("concat", "uint8", levels, 1, 0),
        indexing("gather", "float32", [sum(levels)], 4, 4000), indexing("gather", "uint8", [sum(levels)], 1, 4000),
        box_coder("rpn-decode", 1070328, 1),
        roi_levels("detectron2", 100000),
        roi_align("box-d2-b2", 4000, 256, 7, 0, True),
        nms("rpn", 40000, 5, 0.7),
        mask_paste(100, 2048, 2048, True),
        deform_conv2d("res3-first-3x3-128-s2", 128, 200, 272, 128, 2), softmax_blend(1000, 4, 56),
    ]


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
        times, cpu_times = [], []
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
                c0, t0 = time.process_time(), time.perf_counter()
                runs[copy % copies]()
                times.append((time.perf_counter() - t0) * 1e3)
                cpu_times.append((time.process_time() - c0) * 1e3)
            copy += 1
    return sorted(times), sorted(cpu_times)


def run_ours(executable, args, threads):
    """Times the same cases with `nativeseg bench kernels --json`; returns {case name: (median ms, median CPU ms or None)}."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "ours.json")
        command = [executable, "bench", "kernels", "--device", args.device, "--sizes", args.sizes,
                   "--repeats", str(args.repeats), "--warmup", str(args.warmup), "--json", path]
        if args.device == "cpu":
            command += ["--threads", str(threads)]
        if args.filter:
            command += ["--filter", args.filter]
            if "ceiling" not in args.filter:
                command += ["--no-ceilings"]
        print("$ " + " ".join(command), flush=True)
        subprocess.run(command, check=True)
        with open(path) as f:
            ours = json.load(f)
    medians = {r["name"]: (r["median_ms"], r.get("cpu_median_ms")) for r in ours["results"]}
    ceilings = ours.get("ceilings")
    if ceilings:
        medians[ceilings["copy_name"]] = (ceilings["copy_median_ms"], ceilings.get("copy_cpu_median_ms"))
        medians[ceilings["sgemm_name"]] = (ceilings["sgemm_median_ms"], ceilings.get("sgemm_cpu_median_ms"))
    return medians


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--filter", default=None, help="only cases whose name contains this text")
    parser.add_argument("--sizes", default="paper", choices=sorted(CASES))
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", default=None)
    parser.add_argument("--ours", default=None, help="nativeseg executable: time the same cases with it first and print ours / theirs")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    cases = [c for c in CASES[args.sizes] + shared_cases(args.sizes) if args.filter is None or args.filter.lower() in c[0].lower()]
    if not cases:
        raise SystemExit(f"no case matches '{args.filter}' in the {args.sizes} sizes")
    threads = torch.get_num_threads()
    ours = run_ours(args.ours, args, threads) if args.ours else {}
    print(f"torch {torch.__version__} / torchvision {torchvision.__version__} on {args.device}, {threads} threads, {args.sizes} sizes, "
          f"median of {args.repeats} runs after {args.warmup} warm-up")
    width = max(4, max(len(c[0]) for c in cases))
    print(f"{'case'.ljust(width)}  {'median ms':>10}  {'p10':>9}  {'p90':>9}  {'min':>9}  {'max':>9}  {'GFLOP/s':>8}  {'GB/s':>7}")
    results = []
    for name, flops, nbytes, setup in cases:
        ms, cpu_ms = measure(setup, args.device, args.repeats, args.warmup)
        med = statistics.median(ms)
        row = {"name": name, "runs": len(ms), "median_ms": med, "p10_ms": percentile(ms, 10), "p90_ms": percentile(ms, 90),
               "min_ms": ms[0], "max_ms": ms[-1], "flops": flops, "bytes": nbytes,
               "gflops_per_s": flops / (med * 1e6), "gbytes_per_s": nbytes / (med * 1e6), "samples_ms": ms}
        if cpu_ms:
            row["cpu_median_ms"] = statistics.median(cpu_ms)
        if name in ours:
            row["ours_median_ms"], row["ours_cpu_median_ms"] = ours[name]
        results.append(row)
        print(f"{name.ljust(width)}  {med:10.3f}  {row['p10_ms']:9.3f}  {row['p90_ms']:9.3f}  {ms[0]:9.3f}  {ms[-1]:9.3f}  "
              f"{row['gflops_per_s']:8.1f}  {row['gbytes_per_s']:7.1f}")
    if args.ours:
        print()
        # CPU time (all threads of the process) next to wall time: on a loaded machine the wall clock
        # mostly measures waiting for a core, CPU time still compares the implementations.
        print(f"{'case'.ljust(width)}  {'ours ms':>10}  {'torch ms':>10}  {'ours/torch':>10}  {'ours cpu ms':>11}  {'torch cpu ms':>12}  {'cpu ratio':>9}")
        for row in results:
            if "ours_median_ms" in row:
                cpu = ""
                if row.get("ours_cpu_median_ms") and row.get("cpu_median_ms"):
                    cpu = (f"  {row['ours_cpu_median_ms']:11.3f}  {row['cpu_median_ms']:12.3f}  "
                           f"{row['ours_cpu_median_ms'] / row['cpu_median_ms']:9.2f}")
                print(f"{row['name'].ljust(width)}  {row['ours_median_ms']:10.3f}  {row['median_ms']:10.3f}  "
                      f"{row['ours_median_ms'] / row['median_ms']:10.2f}{cpu}")
            else:
                print(f"{row['name'].ljust(width)}  {'-':>10}  {row['median_ms']:10.3f}  {'(no nativeseg case)':>10}")
        for name in sorted(set(ours) - {r["name"] for r in results}):
            print(f"{name.ljust(width)}  {ours[name][0]:10.3f}  {'-':>10}  (no torch case)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": args.device, "threads": threads, "sizes": args.sizes, "torch": torch.__version__,
                       "torchvision": torchvision.__version__, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
