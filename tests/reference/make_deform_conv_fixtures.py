"""Writes tests/reference/fixtures/deform_conv2d.safetensors: torchvision 0.14's ops.deform_conv2d (DCNv2 with a
mask, DCNv1 without) on seeded inputs whose offsets push taps across every edge of the map.

Run with /usr/bin/python3 (Debian's torch). Each case "NAME" stores NAME.x, NAME.offset, NAME.mask (if any),
NAME.weight, NAME.bias and NAME.y, with stride/padding/dilation/groups/offset_groups in the metadata.
"""
import os

import torch
from torchvision.ops import deform_conv2d

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "deform_conv2d.safetensors")

# name: (input NCHW, weight KCRS, stride, padding, dilation, offset groups, modulated, offset spread)
CASES = {
    "modulated_3x3": ((2, 4, 9, 11), (6, 4, 3, 3), (1, 1), (1, 1), (1, 1), 1, True, 3.0),
    "v1_no_mask": ((1, 3, 8, 7), (5, 3, 3, 3), (1, 1), (1, 1), (1, 1), 1, False, 2.0),
    "strided_dilated_grouped": ((2, 8, 13, 10), (6, 4, 3, 3), (2, 2), (2, 2), (2, 2), 4, True, 2.0),
    "asymmetric_1x3": ((1, 4, 7, 9), (3, 4, 1, 3), (1, 2), (0, 1), (1, 1), 2, True, 1.5),
}


def main():
    torch.manual_seed(0)
    tensors, meta = {}, {}
    for name, (xs, ws, stride, padding, dilation, offset_groups, modulated, spread) in CASES.items():
        groups = xs[1] // ws[1]
        x = torch.rand(xs) * 2 - 1
        weight = torch.rand(ws) * 2 - 1
        bias = torch.rand(ws[0]) * 2 - 1
        out_h = (xs[2] + 2 * padding[0] - dilation[0] * (ws[2] - 1) - 1) // stride[0] + 1
        out_w = (xs[3] + 2 * padding[1] - dilation[1] * (ws[3] - 1) - 1) // stride[1] + 1
        taps = offset_groups * ws[2] * ws[3]
        offset = (torch.rand(xs[0], 2 * taps, out_h, out_w) * 2 - 1) * spread
        mask = torch.rand(xs[0], taps, out_h, out_w) if modulated else None
        y = deform_conv2d(x, offset, weight, bias, stride=stride, padding=padding, dilation=dilation, mask=mask)
        tensors.update({f"{name}.x": x, f"{name}.offset": offset, f"{name}.weight": weight, f"{name}.bias": bias, f"{name}.y": y})
        if mask is not None:
            tensors[f"{name}.mask"] = mask
        meta.update({f"{name}.stride": "%d,%d" % stride, f"{name}.padding": "%d,%d" % padding,
                     f"{name}.dilation": "%d,%d" % dilation, f"{name}.groups": groups, f"{name}.offset_groups": offset_groups})
    fixture_io.save(OUT, tensors, meta)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
