"""Writes tests/reference/fixtures/batch_norm.safetensors: torch 1.13 references for BatchNorm in training mode.

"kernel.<case>.*": F.batch_norm(training=True, momentum 0.1, eps 1e-5) on seeded inputs: the input, γ, β, the
running statistics before and after the update, the output, an upstream gradient and torch autograd's dx, dγ, dβ.
"layer.*": conv 3x3 (no bias) + BatchNorm2d + ReLU, as a ResNet's conv-norm-act unit: one training-mode step
(output, gradients of the conv weight, γ, β and the input, updated running statistics), then the eval-mode
output with those statistics, which the folded (compiled) layer must reproduce.

Run with /usr/bin/python3 (Debian's torch). Inputs are stored, so the C# side never needs torch's generator.
"""
import os

import torch
import torch.nn.functional as F

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "batch_norm.safetensors")
MOMENTUM, EPS = 0.1, 1e-5


def kernel_cases(g):
    # (name, input shape, input offset): odd sizes, a mean far above the spread, (N, C) input, one image,
    # and two values per channel (the fewest training allows).
    cases = [
        ("odd_spatial", (2, 6, 5, 7), 0.0),
        ("large_mean", (3, 4, 3, 3), 100.0),
        ("rank2", (8, 5), 0.0),
        ("one_image", (1, 3, 4, 5), 0.5),
        ("two_values", (2, 3, 1, 1), 0.0),
    ]
    tensors = {}
    for name, shape, offset in cases:
        p = f"kernel.{name}."
        c = shape[1]
        x = torch.randn(*shape, generator=g) * 2 + offset
        gamma, beta = torch.rand(c, generator=g) + 0.5, torch.randn(c, generator=g)
        running_mean, running_var = torch.randn(c, generator=g), torch.rand(c, generator=g) + 0.5
        tensors.update({p + "x": x, p + "gamma": gamma, p + "beta": beta,
                        p + "running_mean": running_mean.clone(), p + "running_var": running_var.clone()})
        leaves = [t.clone().requires_grad_(True) for t in (x, gamma, beta)]
        y = F.batch_norm(leaves[0], running_mean, running_var, leaves[1], leaves[2], training=True, momentum=MOMENTUM, eps=EPS)
        gy = torch.randn(y.shape, generator=g)
        y.backward(gy)
        tensors.update({p + "y": y.detach(), p + "gy": gy, p + "dx": leaves[0].grad, p + "dgamma": leaves[1].grad,
                        p + "dbeta": leaves[2].grad, p + "running_mean_after": running_mean, p + "running_var_after": running_var})
    return tensors


def layer_case(g):
    conv = torch.nn.Conv2d(3, 4, 3, padding=1, bias=False)
    bn = torch.nn.BatchNorm2d(4, eps=EPS, momentum=MOMENTUM)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) * 0.3)
        bn.weight.copy_(torch.rand(4, generator=g) + 0.5)
        bn.bias.copy_(torch.randn(4, generator=g))
        bn.running_mean.copy_(torch.randn(4, generator=g))
        bn.running_var.copy_(torch.rand(4, generator=g) + 0.5)
    tensors = {"layer.conv.weight": conv.weight.detach().clone(), "layer.bn.weight": bn.weight.detach().clone(),
               "layer.bn.bias": bn.bias.detach().clone(), "layer.bn.running_mean": bn.running_mean.clone(),
               "layer.bn.running_var": bn.running_var.clone()}
    x = (torch.randn(2, 3, 9, 8, generator=g) + 0.3).requires_grad_(True)
    bn.train()
    y = F.relu(bn(conv(x)))
    gy = torch.randn(y.shape, generator=g)
    y.backward(gy)
    tensors.update({"layer.x": x.detach(), "layer.gy": gy, "layer.y_train": y.detach(), "layer.dx": x.grad,
                    "layer.grad.conv.weight": conv.weight.grad, "layer.grad.bn.weight": bn.weight.grad,
                    "layer.grad.bn.bias": bn.bias.grad, "layer.running_mean_after": bn.running_mean.clone(),
                    "layer.running_var_after": bn.running_var.clone()})
    bn.eval()
    with torch.no_grad():
        tensors["layer.y_eval"] = F.relu(bn(conv(x.detach())))
    return tensors


def main():
    g = torch.Generator().manual_seed(17)
    tensors = {**kernel_cases(g), **layer_case(g)}
    fixture_io.save(OUT, tensors, {"torch": torch.__version__})
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(tensors)} tensors)")


if __name__ == "__main__":
    main()
