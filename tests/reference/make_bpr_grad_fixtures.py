"""Writes tests/reference/fixtures/grad_bpr.safetensors: torch 1.13 autograd references for training BPR.

Run with /usr/bin/python3 (Debian's torch). Three parts:
- bilinear.<case>: F.interpolate(mode="bilinear") backward for up- and downsampling, both align_corners, and an
  unchanged size: the upstream gradient ("gy") and the input's gradient ("dx").
- concat: torch.cat along the channel axis, each input's gradient.
- network: bpr_reference.py's hr18s (hashed weights, metadata as in make_bpr_fixtures.py) in training mode
  (BatchNorm with batch statistics) on two hashed 64x64 patches; upstream's loss (logits resized bilinearly to the
  label size, 2-class cross-entropy averaged over pixels) against a hashed 0/1 target; the loss, and the gradients
  of a set of parameters spread over the network (stem with the mask conv, a transition, fuse layers that upsample
  and downsample, the head). The head is not conditioned: the loss stays away from saturation.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

import bpr_reference as bpr
import fixture_io
import hashed_weights
from make_bpr_fixtures import hashed_input

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "grad_bpr.safetensors")

GRADIENTS = [
    "backbone.conv1.weight",
    "backbone.conv_mask.weight",
    "backbone.bn1.weight",
    "backbone.bn1.bias",
    "backbone.layer1.0.downsample.1.weight",
    "backbone.transition2.2.0.0.weight",
    "backbone.stage2.0.fuse_layers.0.1.0.weight",
    "backbone.stage2.0.fuse_layers.1.0.0.0.weight",
    "backbone.stage3.0.fuse_layers.2.0.1.1.weight",
    "backbone.stage3.2.branches.0.1.bn2.weight",
    "backbone.stage3.2.fuse_layers.0.2.1.weight",
    "backbone.transition3.3.0.1.weight",
    "backbone.stage4.0.branches.3.0.bn1.weight",
    "backbone.stage4.0.fuse_layers.0.1.1.weight",
    "backbone.stage4.1.branches.0.0.bn1.weight",
    "backbone.stage4.1.branches.0.1.bn2.weight",
    "backbone.stage4.1.fuse_layers.1.0.0.1.weight",
    "backbone.stage4.1.fuse_layers.3.0.0.1.weight",
    "backbone.stage4.1.branches.3.1.bn2.weight",
    "backbone.stage4.1.fuse_layers.0.3.0.weight",
    "backbone.stage4.1.fuse_layers.3.0.2.1.weight",
    "decode_head.convs.0.bn.weight",
    "decode_head.conv_seg.weight",
    "decode_head.conv_seg.bias",
]


def rule(name, shape):
    """(offset, bound): value = offset + uniform(-bound, bound); He-uniform convs, BatchNorm affine near (1, 0)."""
    if name.endswith("running_var"):
        return 1.0, 0.5
    if name.endswith("running_mean"):
        return 0.0, 0.1
    if len(shape) == 1 and name.endswith("weight"):
        return 1.0, 0.2
    if name.endswith("bias"):
        return 0.0, 0.1
    return 0.0, math.sqrt(6.0 / int(np.prod(shape[1:])))


def bilinear_cases(g):
    # (name, input shape, output size, align_corners)
    cases = [
        ("up4", (2, 3, 4, 4), (16, 16), False),
        ("up_odd_align", (1, 2, 4, 5), (9, 13), True),
        ("down", (1, 2, 17, 12), (5, 7), False),
        ("same", (1, 1, 6, 4), (6, 4), False),
    ]
    out = {}
    for name, shape, size, align in cases:
        x = torch.rand(*shape, generator=g).requires_grad_(True)
        y = F.interpolate(x, size=size, mode="bilinear", align_corners=align)
        gy = torch.randn(y.shape, generator=g)
        y.backward(gy)
        out.update({f"bilinear.{name}.gy": gy, f"bilinear.{name}.dx": x.grad})
    return out


def concat_case(g):
    a = torch.rand(2, 3, 4, 4, generator=g).requires_grad_(True)
    b = torch.rand(2, 5, 4, 4, generator=g).requires_grad_(True)
    y = torch.cat([a, b], 1)
    gy = torch.randn(y.shape, generator=g)
    y.backward(gy)
    return {"concat.gy": gy, "concat.da": a.grad, "concat.db": b.grad}


def network_case(meta):
    model = bpr.Bpr("hr18s")
    keys = [(k, tuple(v.shape)) for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")]
    weights = hashed_weights.conditioned(keys, rule, meta)
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    model.train()
    x = hashed_input("network", 2, 64, meta)
    target = torch.from_numpy((hashed_weights.uniform("network.target", (2, 64, 64), 1.0) >= 0).astype(np.int64))
    logits = model.decode_head(model.backbone(x))
    resized = F.interpolate(logits, size=target.shape[1:], mode="bilinear", align_corners=False)
    loss = F.cross_entropy(resized, target)
    loss.backward()
    params = dict(model.named_parameters())
    out = {"network.loss": loss.detach().reshape(1), "network.target": target.to(torch.uint8)}
    for name in GRADIENTS:
        out["network.grad." + name] = params[name].grad
        print(name, tuple(params[name].shape), float(params[name].grad.abs().max()))
    print("loss", float(loss))
    return out


def main():
    g = torch.Generator().manual_seed(13)
    meta = {}
    out = {}
    out.update(bilinear_cases(g))
    out.update(concat_case(g))
    out.update(network_case(meta))
    fixture_io.save(OUT, out, meta)


if __name__ == "__main__":
    main()
