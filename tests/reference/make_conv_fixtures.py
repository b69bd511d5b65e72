"""Writes the convolution-family fixtures: inputs, weights and torch 1.13's outputs.

Run from the repository root with Debian's torch: /usr/bin/python3 tests/reference/make_conv_fixtures.py
Each case goes to tests/reference/fixtures/conv/<case>.safetensors; the hyper-parameters are in the
file's metadata so the C# test reads them rather than repeating them.
"""
import os

import torch
import torch.nn.functional as F

from fixture_io import save

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "conv")


def conv_case(name, x_shape, w_shape, bias, stride=1, padding=0, dilation=1, groups=1, relu=False):
    x = torch.randn(*x_shape)
    w = torch.randn(*w_shape) / (w_shape[1] * w_shape[2] * w_shape[3]) ** 0.5
    tensors = {"x": x, "weight": w}
    b = None
    if bias:
        b = torch.randn(w_shape[0])
        tensors["bias"] = b
    y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
    if relu:
        y = F.relu(y)
    tensors["y"] = y
    save(os.path.join(OUT, name + ".safetensors"), tensors,
         {"op": "conv2d", "stride": _pair(stride), "padding": _pair(padding), "dilation": _pair(dilation),
          "groups": groups, "relu": int(relu)})


def _pair(v):
    h, w = (v, v) if isinstance(v, int) else v
    return f"{h},{w}"


def main():
    torch.manual_seed(20240611)
    os.makedirs(OUT, exist_ok=True)
    conv_case("grouped", (2, 8, 9, 10), (12, 2, 3, 3), True, padding=1, groups=4)
    conv_case("dilated", (1, 5, 14, 12), (6, 5, 3, 3), True, padding=2, dilation=2)
    conv_case("strided_asymmetric", (2, 3, 19, 14), (4, 3, 5, 3), False, stride=(2, 3), padding=(2, 1))
    conv_case("bias_relu", (1, 16, 11, 13), (24, 16, 3, 3), True, padding=1, relu=True)

    # Transposed conv: stride 2, output_padding 1, groups 2 (weight [Cin, Cout/groups, R, S]).
    x = torch.randn(2, 6, 5, 7)
    w = torch.randn(6, 4, 3, 3) / 6 ** 0.5
    b = torch.randn(8)
    y = F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)
    save(os.path.join(OUT, "transposed.safetensors"), {"x": x, "weight": w, "bias": b, "y": y},
         {"op": "conv_transpose2d", "stride": "2,2", "padding": "1,1", "output_padding": "1,1",
          "dilation": "1,1", "groups": 2, "relu": 0})

    x = torch.randn(5, 37)
    w = torch.randn(21, 37) / 37 ** 0.5
    b = torch.randn(21)
    save(os.path.join(OUT, "linear.safetensors"), {"x": x, "weight": w, "bias": b, "y": F.linear(x, w, b)}, {"op": "linear"})

    # Conv followed by a frozen (eval-mode) BatchNorm, both eps conventions.
    for name, eps, conv_bias in (("conv_bn_detectron2", 1e-5, False), ("conv_bn_eps0_bias", 0.0, True)):
        conv = torch.nn.Conv2d(6, 10, 3, padding=1, bias=conv_bias)
        bn = torch.nn.BatchNorm2d(10, eps=eps).eval()
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
            bn.running_mean.uniform_(-0.3, 0.3)
            bn.running_var.uniform_(0.2, 2.0)
            x = torch.randn(1, 6, 8, 9)
            y = bn(conv(x))
        tensors = {"x": x, "conv.weight": conv.weight, "bn.weight": bn.weight, "bn.bias": bn.bias,
                   "bn.running_mean": bn.running_mean, "bn.running_var": bn.running_var, "y": y}
        if conv_bias:
            tensors["conv.bias"] = conv.bias
        save(os.path.join(OUT, name + ".safetensors"), tensors, {"op": "conv_bn", "eps": repr(eps)})


if __name__ == "__main__":
    main()
