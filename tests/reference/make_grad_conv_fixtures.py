"""Writes the gradient fixtures of conv2d, conv_transpose2d and linear: torch 1.13 autograd's dx, dW, db.

Run from the repository root with Debian's torch: /usr/bin/python3 tests/reference/make_grad_conv_fixtures.py
Everything goes to tests/reference/fixtures/grad_conv.safetensors, tensors named "<case>.<name>" (x,
weight, dy, dx, dweight, dbias); the hyper-parameters are in the metadata as "<case>.<key>" so the C#
tests read them rather than repeating them. Shapes stay small to keep the file under 300 KB.
"""
import os

import torch
import torch.nn.functional as F

from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "grad_conv.safetensors")


def _pair(v):
    h, w = (v, v) if isinstance(v, int) else v
    return f"{h},{w}"


def _grads(name, op, forward, x, w, b, tensors, metadata, params):
    x = x.requires_grad_()
    w = w.requires_grad_()
    b = b.requires_grad_()
    y = forward(x, w, b)
    dy = torch.randn_like(y)
    y.backward(dy)
    for key, value in (("x", x), ("weight", w), ("dy", dy), ("dx", x.grad), ("dweight", w.grad), ("dbias", b.grad)):
        tensors[f"{name}.{key}"] = value.detach()
    metadata[f"{name}.op"] = op
    for key, value in params.items():
        metadata[f"{name}.{key}"] = value


def conv(name, x_shape, w_shape, tensors, metadata, stride=1, padding=0, dilation=1, groups=1):
    x = torch.randn(*x_shape)
    w = torch.randn(*w_shape) / (w_shape[1] * w_shape[2] * w_shape[3]) ** 0.5
    b = torch.randn(w_shape[0])
    _grads(name, "conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups),
           x, w, b, tensors, metadata,
           {"stride": _pair(stride), "padding": _pair(padding), "dilation": _pair(dilation), "groups": groups})


def conv_transpose(name, x_shape, w_shape, tensors, metadata, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    x = torch.randn(*x_shape)
    w = torch.randn(*w_shape) / (w_shape[0] * w_shape[2] * w_shape[3]) ** 0.5
    b = torch.randn(w_shape[1] * groups)
    _grads(name, "conv_transpose2d",
           lambda x, w, b: F.conv_transpose2d(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                                              groups=groups, dilation=dilation),
           x, w, b, tensors, metadata,
           {"stride": _pair(stride), "padding": _pair(padding), "output_padding": _pair(output_padding),
            "dilation": _pair(dilation), "groups": groups})


def linear(name, x_shape, out_features, tensors, metadata):
    x = torch.randn(*x_shape)
    w = torch.randn(out_features, x_shape[-1]) / x_shape[-1] ** 0.5
    b = torch.randn(out_features)
    _grads(name, "linear", F.linear, x, w, b, tensors, metadata, {})


def main():
    torch.manual_seed(20250301)
    tensors, metadata = {}, {}
    conv("conv_3x3", (2, 5, 9, 11), (7, 5, 3, 3), tensors, metadata, padding=1)
    conv("conv_grouped", (2, 8, 9, 10), (12, 2, 3, 3), tensors, metadata, padding=1, groups=4)
    conv("conv_stride_pad_dilation", (2, 4, 15, 13), (6, 4, 3, 3), tensors, metadata, stride=2, padding=2, dilation=2)
    conv("conv_asymmetric", (1, 3, 17, 12), (4, 3, 5, 3), tensors, metadata, stride=(2, 3), padding=(2, 1))
    conv("conv_1x1", (3, 8, 5, 7), (6, 8, 1, 1), tensors, metadata)
    conv("conv_1x1_stride2", (2, 4, 9, 9), (5, 4, 1, 1), tensors, metadata, stride=2)
    conv("conv_batch0", (0, 4, 6, 6), (4, 4, 3, 3), tensors, metadata, padding=1)
    conv_transpose("convt_mask_head", (3, 8, 7, 7), (8, 6, 2, 2), tensors, metadata, stride=2)
    conv_transpose("convt_groups_output_padding", (2, 4, 5, 6), (4, 3, 3, 3), tensors, metadata,
                   stride=2, padding=1, output_padding=1, groups=2)
    conv_transpose("convt_dilated", (1, 3, 6, 4), (3, 2, 3, 2), tensors, metadata, stride=(1, 3), padding=(2, 0), dilation=(2, 1))
    linear("linear_2d", (7, 33), 19, tensors, metadata)
    linear("linear_3d", (2, 3, 10), 5, tensors, metadata)
    linear("linear_empty", (0, 8), 4, tensors, metadata)
    save(OUT, tensors, metadata)


if __name__ == "__main__":
    main()
