"""Writes tests/reference/fixtures/attention_nonlocal.safetensors: torch 1.13 references for BCNet's
non-local block (spec bcnet.md §1.4) at 0, 1, 7 and 100 RoIs of 256 x 14 x 14.

- core_r{R}: the attention core softmax(q @ k^T / 16) @ v, with q, k, v [R, 196, 256]; 16 = sqrt(256) is
  BCNet's 1/sqrt(C) scale (self.scale = 1.0 / (input_channels ** 0.5) in its mask head).
- block_r{R}: the whole block as BCNet codes it: 1x1 convs without bias for query/key/value, the scaled
  softmax over keys, the product with the values, the 1x1 output conv, BatchNorm2d(eps=1e-4) in eval
  mode with non-trivial running statistics, and the residual add.

Full-size inputs and outputs would be tens of MB, so inputs are hashed_weights tensors the C# test
recomputes bit for bit (names below), and each output is stored as a strided sample of its flattened
values, "<case>.y" = y.flatten()[::stride]. The C# test holds the same table of cases.

Run with /usr/bin/python3 (Debian's torch).
"""
import math
import os

import torch
import torch.nn as nn

import fixture_io
import hashed_weights

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "attention_nonlocal.safetensors")

CHANNELS = 256
SIDE = 14
# (RoIs, sample stride): strides are primes so the samples walk across channels and positions.
CASES = [(0, 1), (1, 7), (7, 37), (100, 509)]


def hashed(name, shape, bound):
    return torch.from_numpy(hashed_weights.uniform(name, shape, bound))


def core(rois):
    n = SIDE * SIDE
    # Channel-major as the engine stores them ([R, C, HW], the 1x1 conv output); torch's matmul view is
    # the transpose. Bound 3 gives logits q.k/16 of standard deviation 3: peaked but not one-hot rows.
    q = hashed(f"core_r{rois}.q", (rois, CHANNELS, n), 3.0)
    k = hashed(f"core_r{rois}.k", (rois, CHANNELS, n), 3.0)
    v = hashed(f"core_r{rois}.v", (rois, CHANNELS, n), 1.0)
    w = torch.softmax(q.transpose(1, 2) @ k / 16, dim=-1)
    return (w @ v.transpose(1, 2)).transpose(1, 2)


class NonLocalBlock(nn.Module):
    """BCNet's occludee-branch non-local block (spec §1.2-1.4), written from the spec."""

    def __init__(self, channels):
        super().__init__()
        self.query = nn.Conv2d(channels, channels, 1, bias=False)
        self.key = nn.Conv2d(channels, channels, 1, bias=False)
        self.value = nn.Conv2d(channels, channels, 1, bias=False)
        self.output = nn.Conv2d(channels, channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(channels, eps=1e-4)
        self.scale = 1.0 / math.sqrt(channels)

    def forward(self, x):
        b, c, h, w = x.shape
        q = self.query(x).view(b, c, -1).transpose(1, 2)
        k = self.key(x).view(b, c, -1)
        v = self.value(x).view(b, c, -1).transpose(1, 2)
        attention = torch.softmax(q @ k * self.scale, dim=-1)
        relation = (attention @ v).transpose(1, 2).reshape(b, c, h, w)
        return x + self.bn(self.output(relation))


def block(rois):
    c = CHANNELS
    module = NonLocalBlock(c).eval()
    bound = math.sqrt(3.0 / c)  # std 1/sqrt(C)
    with torch.no_grad():
        for name in ("query", "key", "value", "output"):
            getattr(module, name).weight.copy_(hashed(f"block.{name}", (c, c, 1, 1), bound))
        module.bn.weight.copy_(1 + hashed("block.bn.weight", (c,), 0.5))
        module.bn.bias.copy_(hashed("block.bn.bias", (c,), 0.5))
        module.bn.running_mean.copy_(hashed("block.bn.running_mean", (c,), 0.2))
        module.bn.running_var.copy_(1 + hashed("block.bn.running_var", (c,), 0.5))
        # Post-ReLU features, as after BCNet's second 3x3 conv.
        x = torch.relu(hashed(f"block_r{rois}.x", (rois, c, SIDE, SIDE), 2.0))
        # BCNet skips the block without RoIs (its view(B, C, -1) cannot size an empty batch).
        return module(x) if rois > 0 else x


def main():
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    tensors = {}
    with torch.no_grad():
        for rois, stride in CASES:
            tensors[f"core_r{rois}.y"] = core(rois).reshape(-1)[::stride].contiguous()
            tensors[f"block_r{rois}.y"] = block(rois).reshape(-1)[::stride].contiguous()
    fixture_io.save(OUT, tensors, {"torch": torch.__version__, "channels": CHANNELS, "side": SIDE})
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
