"""Writes tests/reference/fixtures/softmax_blend.safetensors: BlendMask's blend step in torch 1.13, as
adet/modeling/blendmask/blender.py computes it after pooling: attention logits [D, 4, 14, 14] upsampled to 56x56
(bilinear, align_corners=False), softmax over the 4 bases, weighted sum of the pooled bases, sigmoid.

Stores NAME.logits (already upsampled), NAME.values (pooled bases) and NAME.masks for each case.
"""
import os

import torch
import torch.nn.functional as F

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "softmax_blend.safetensors")


def main():
    torch.manual_seed(0)
    tensors = {}
    for name, (d, spread) in {"blender": (2, 3.0), "large_logits": (1, 40.0)}.items():
        attns = (torch.rand(d, 4 * 14 * 14) * 2 - 1) * spread
        logits = F.interpolate(attns.view(d, 4, 14, 14), (56, 56), mode="bilinear", align_corners=False)
        values = torch.randn(d, 4, 56, 56) * 2
        masks = (values * logits.softmax(dim=1)).sum(dim=1).sigmoid()
        tensors.update({f"{name}.logits": logits, f"{name}.values": values, f"{name}.masks": masks})
    fixture_io.save(OUT, tensors)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
