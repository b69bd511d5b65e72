"""Writes tests/reference/fixtures/grad_roiloss.safetensors: torch 1.13 / torchvision 0.14 autograd
references for RoIAlign's backward and the detection losses' values and input gradients.

Run with /usr/bin/python3 (Debian's torch). Inputs, upstream gradients and outputs are stored together,
so the C# tests never need torch's generator.

RoIAlign: "<case>.grad_out" [R, C, oh, ow] is the gradient of the pooled features; "<case>.grad.<l>" is
the gradient of feature level l, summed over the RoIs pooled from it (torchvision pools one level per
call, so each level is pooled from its own RoIs and all levels backpropagate together).

Losses: "<case>.input", "<case>.target", "<case>.loss" (0-d) and "<case>.grad" (d loss / d input, with an
upstream gradient of 1 unless "<case>.upstream" is stored).
"""
import math
import os

import torch
import torch.nn.functional as F
import torchvision

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

IMAGE_H, IMAGE_W = 61, 83
STRIDES = [4, 8, 16, 32]
BATCH, CHANNELS = 2, 2


def rois(g, n):
    """Random boxes around a 61x83 image, then edge cases: partly and wholly outside, zero-area, inverted."""
    xy = torch.rand(n, 2, generator=g) * torch.tensor([IMAGE_W + 30.0, IMAGE_H + 20.0]) - torch.tensor([20.0, 15.0])
    wh = torch.rand(n, 2, generator=g) * 60.0
    boxes = torch.cat([xy, xy + wh], dim=1)
    boxes[0] = torch.tensor([-30.0, -25.0, 10.0, 12.0])     # hangs over the top-left corner
    boxes[1] = torch.tensor([70.0, 50.0, 130.0, 90.0])      # hangs over the bottom-right corner
    boxes[2] = torch.tensor([-200.0, -200.0, -150.0, -120.0])  # wholly outside
    boxes[3] = torch.tensor([20.0, 30.0, 20.0, 30.0])       # zero area
    boxes[4] = torch.tensor([10.0, 5.0, 10.0, 40.0])        # zero width
    boxes[5] = torch.tensor([40.0, 30.0, 32.0, 21.0])       # inverted
    batch = torch.randint(0, BATCH, (n, 1), generator=g).float()
    return torch.cat([batch, boxes], dim=1)


def roi_align_cases(t):
    g = torch.Generator().manual_seed(11)
    n = 20
    t["roi.rois"] = rois(g, n)
    t["roi.levels"] = torch.randint(0, len(STRIDES), (n,), generator=g).to(torch.int32)
    cases = [
        ("roi_aligned_s0", True, 0, (7, 7)),
        ("roi_legacy_s0", False, 0, (7, 7)),
        ("roi_aligned_s2", True, 2, (5, 4)),
        ("roi_legacy_s2", False, 2, (3, 5)),
    ]
    levels = t["roi.levels"].long()
    for name, aligned, sampling, size in cases:
        features = [
            torch.zeros(BATCH, CHANNELS, math.ceil(IMAGE_H / s), math.ceil(IMAGE_W / s), requires_grad=True)
            for s in STRIDES
        ]
        grad_out = torch.rand(n, CHANNELS, *size, generator=g) * 2 - 1
        total = 0.0
        for l, s in enumerate(STRIDES):
            idx = torch.nonzero(levels == l).flatten()
            if idx.numel():
                pooled = torchvision.ops.roi_align(features[l], t["roi.rois"][idx], size, 1.0 / s, sampling, aligned)
                total = total + (pooled * grad_out[idx]).sum()
        total.backward()
        t[f"{name}.grad_out"] = grad_out
        for l, f in enumerate(features):
            t[f"{name}.grad.{l}"] = f.grad


def loss_case(t, name, fn, x, target, upstream=None):
    x = x.clone().requires_grad_(True)
    loss = fn(x, target)
    loss.backward(None if upstream is None else torch.tensor(upstream))
    t[f"{name}.input"] = x.detach()
    t[f"{name}.target"] = target
    t[f"{name}.loss"] = loss.detach()
    t[f"{name}.grad"] = x.grad
    if upstream is not None:
        t[f"{name}.upstream"] = torch.tensor(upstream)


def loss_cases(t):
    g = torch.Generator().manual_seed(5)
    logits = torch.randn(37, 81, generator=g) * 3
    labels = torch.randint(0, 81, (37,), generator=g)
    loss_case(t, "ce_mean", lambda x, y: F.cross_entropy(x, y), logits, labels)
    loss_case(t, "ce_sum", lambda x, y: F.cross_entropy(x, y, reduction="sum"), logits, labels, upstream=0.37)
    big = torch.tensor([[80.0, -80.0, 0.0, 79.5], [-80.0, -80.0, -80.0, 80.0], [80.0, 80.0, -80.0, -80.0]])
    loss_case(t, "ce_large", lambda x, y: F.cross_entropy(x, y), big, torch.tensor([1, 3, 0]))

    masks = torch.randn(3, 14, 14, generator=g) * 4
    hard = (torch.rand(3, 14, 14, generator=g) > 0.5).float()
    soft = torch.rand(3, 14, 14, generator=g)
    loss_case(t, "bce_mean", lambda x, y: F.binary_cross_entropy_with_logits(x, y), masks, hard)
    loss_case(t, "bce_sum_soft", lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="sum"), masks, soft)
    big = torch.tensor([80.0, -80.0, 80.0, -80.0, 0.0, 30.0])
    loss_case(t, "bce_large", lambda x, y: F.binary_cross_entropy_with_logits(x, y), big, torch.tensor([0.0, 1.0, 1.0, 0.0, 0.5, 0.25]))

    deltas = torch.randn(29, 4, generator=g) * 0.3
    targets = torch.randn(29, 4, generator=g) * 0.3
    targets[0] = deltas[0]                      # zero difference: sign(0) = 0 for L1
    targets[1] = deltas[1] + torch.tensor([1 / 9, -1 / 9, 2.0, -2.0])
    beta = 1.0 / 9.0
    loss_case(t, "smooth_l1_sum", lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=beta), deltas, targets)
    loss_case(t, "smooth_l1_mean", lambda x, y: F.smooth_l1_loss(x, y, beta=beta), deltas, targets)
    # torchvision's box loss: a sum divided by a count computed elsewhere (here 64 sampled RoIs).
    loss_case(t, "smooth_l1_normalised", lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=beta) / 64, deltas, targets)
    # torch 1.13's smooth_l1 kernel gives -1 for an exact tie at beta 0 where its l1_loss (and detectron2's
    # abs) give 0; NativeSeg follows l1_loss, so this case has no ties and the l1 cases cover them.
    untied = targets.clone()
    untied[0] += 0.05
    loss_case(t, "smooth_l1_beta0", lambda x, y: F.smooth_l1_loss(x, y, reduction="sum", beta=0.0), deltas, untied)
    loss_case(t, "l1_mean", lambda x, y: F.l1_loss(x, y), deltas, targets)
    loss_case(t, "l1_sum", lambda x, y: F.l1_loss(x, y, reduction="sum"), deltas, targets)


def main():
    t = {}
    roi_align_cases(t)
    loss_cases(t)
    fixture_io.save(os.path.join(OUT, "grad_roiloss.safetensors"), t, {"torch": torch.__version__, "torchvision": torchvision.__version__})


if __name__ == "__main__":
    main()
