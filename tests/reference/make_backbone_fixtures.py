"""Writes the ResNet-50-FPN backbone fixtures: torchvision 0.14's backbone outputs for deterministic weights.

Run from the repository root with Debian's torch: /usr/bin/python3 tests/reference/make_backbone_fixtures.py

The full R50-FPN weights (~27 M floats) are far too large to commit, so they come from a formula both this
script and the C# test evaluate (BackboneWeights.cs), keyed by the torchvision state-dict name:

    seed(name) = sum((i + 1) * ord(ch) for i, ch in enumerate(name)) % 9973
    u[j]       = sin(j * 2.399963229728653 + 0.1 * seed(name))      (float64, j = flat index, then float32)

scaled by role so activations stay O(1) through 16 residual blocks and BatchNorm is far from identity:
conv weight 2/sqrt(fan_in)·u, conv bias 0.05·u, BN weight 0.5 + 0.3·u, BN bias 0.1·u, running_mean 0.1·u,
running_var 1 + 0.5·u. num_batches_tracked is not a parameter (left as is).

Stored per case: the input, P3..P6 (P3 every 2nd channel, P4..P6 whole), P2 every 8th channel, and the
per-channel sums of P2 and P3 so the channels left out still count. Cases:
  tv       64x96 input, torchvision's model as built (stride in the 3x3, BatchNorm2d eps 1e-5)
  tv_odd   72x100 input (not a multiple of 32: top-down upsampling to non-double sizes)
  msra     64x96 input, each strided block's stride moved to its 1x1 conv and every BN eps set to 0
           (the maskrcnn-benchmark / MSRA convention)
"""
import math
import os

import numpy as np
import torch
import torchvision

from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "backbone.safetensors")
GOLDEN = 2.399963229728653


def seed_of(name):
    return sum((i + 1) * ord(ch) for i, ch in enumerate(name)) % 9973


def formula(name, shape):
    n = int(np.prod(shape))
    u = np.sin(np.arange(n, dtype=np.float64) * GOLDEN + 0.1 * seed_of(name))
    if name.endswith("running_var"):
        v = 1.0 + 0.5 * u
    elif name.endswith("running_mean"):
        v = 0.1 * u
    elif len(shape) == 4:
        fan_in = shape[1] * shape[2] * shape[3]
        v = 2.0 / math.sqrt(fan_in) * u
    elif ".bn" in name or ".downsample.1." in name:
        v = 0.5 + 0.3 * u if name.endswith(".weight") else 0.1 * u
    else:
        v = 0.05 * u
    return torch.from_numpy(v.astype(np.float32).reshape(shape))


def build():
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91)
    backbone = model.backbone.eval()
    state = backbone.state_dict()
    for key, value in state.items():
        if not key.endswith("num_batches_tracked"):
            value.copy_(formula("backbone." + key, tuple(value.shape)))
    return backbone


def to_msra(backbone):
    for layer in (backbone.body.layer2, backbone.body.layer3, backbone.body.layer4):
        block = layer[0]
        block.conv1.stride, block.conv2.stride = block.conv2.stride, block.conv1.stride
    for module in backbone.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.eps = 0.0


def image(h, w, seed):
    # A smooth pattern plus noise, normalised roughly as a real image would be.
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    base = torch.stack([torch.sin(yy / 7 + c) * torch.cos(xx / 11 - c) for c in range(3)])
    return (base + 0.5 * torch.randn(3, h, w, generator=g))[None]


def case(tensors, name, backbone, x):
    with torch.no_grad():
        out = backbone(x)
    p = [out[k] for k in ("0", "1", "2", "3", "pool")]
    tensors[f"{name}.x"] = x
    tensors[f"{name}.p2_every8"] = p[0][:, ::8]
    tensors[f"{name}.p2_sums"] = p[0].sum(dim=(2, 3))
    tensors[f"{name}.p3_every2"] = p[1][:, ::2]
    tensors[f"{name}.p3_sums"] = p[1].sum(dim=(2, 3))
    for level, t in zip((4, 5, 6), p[2:]):
        tensors[f"{name}.p{level}"] = t
    print(name, [tuple(t.shape) for t in p], "max |p|", [float(t.abs().max()) for t in p])


def main():
    tensors = {}
    backbone = build()
    x = image(64, 96, 1)
    case(tensors, "tv", backbone, x)
    case(tensors, "tv_odd", backbone, image(72, 100, 2))
    to_msra(backbone)
    case(tensors, "msra", backbone, x)
    save(OUT, tensors, {"formula": "see make_backbone_fixtures.py"})
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
