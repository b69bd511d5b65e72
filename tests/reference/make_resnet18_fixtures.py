"""Writes the ResNet-18-FPN backbone fixture: torchvision 0.14's output for the deterministic weights of
make_backbone_fixtures.py (same formula, same names), with a narrow FPN as the default model uses.

Run from the repository root with Debian's torch: /usr/bin/python3 tests/reference/make_resnet18_fixtures.py

The backbone is the default model's (build/default_model_torch.py): torchvision's resnet18 body (BasicBlock,
BatchNorm2d eps 1e-5, evaluated in eval mode) under BackboneWithFPN with 64 output channels, since
resnet_fpn_backbone fixes them at 256. Stored: the 64x96 input and P2..P6 whole (they are small).
"""
import os

import torch
import torchvision
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

from fixture_io import save
from make_backbone_fixtures import formula, image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "backbone_r18.safetensors")
FPN_CHANNELS = 64


def build():
    body = torchvision.models.resnet18(weights=None, norm_layer=torch.nn.BatchNorm2d)
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
                               [64, 128, 256, 512], FPN_CHANNELS, extra_blocks=LastLevelMaxPool()).eval()
    for key, value in backbone.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            value.copy_(formula("backbone." + key, tuple(value.shape)))
    return backbone


def main():
    backbone = build()
    x = image(64, 96, 1)
    with torch.no_grad():
        out = backbone(x)
    tensors = {"x": x}
    for level, key in zip(range(2, 7), ("0", "1", "2", "3", "pool")):
        tensors[f"p{level}"] = out[key]
    print([tuple(t.shape) for t in out.values()], "max |p|", [float(t.abs().max()) for t in out.values()])
    save(OUT, tensors, {"formula": "see make_backbone_fixtures.py", "fpn_channels": str(FPN_CHANNELS)})
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
