"""Writes tests/reference/fixtures/grad_spatial.safetensors: torch 1.13 autograd references for the
backward passes of ReLU, max pooling, nearest resize and GroupNorm. Each case stores its inputs, the
upstream gradient ("<case>.gy") and torch's gradients; the C# tests know each case's arguments by name.

Run with /usr/bin/python3 (Debian's torch). Inputs are random but seeded, and stored, so the C# side
never needs torch's generator.
"""
import os

import torch
import torch.nn.functional as F

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "grad_spatial.safetensors")


def gradients(forward, inputs, g):
    """Runs forward on leaf copies of inputs, back-propagates a seeded upstream gradient and returns
    (output, upstream gradient, gradients of the inputs)."""
    leaves = [t.clone().requires_grad_(True) for t in inputs]
    y = forward(*leaves)
    gy = torch.randn(y.shape, generator=g)
    y.backward(gy)
    return y.detach(), gy, [t.grad for t in leaves]


def relu_cases(g):
    x = torch.rand(3, 5, 7, generator=g) * 8 - 4
    x[0, 0, :3] = 0.0  # ReLU's output is 0 there: torch drops the gradient at exactly 0
    y, gy, (dx,) = gradients(F.relu, [x], g)
    return {"relu.y": y, "relu.gy": gy, "relu.dx": dx}


def max_pool_cases(g):
    # (name, input shape, kernel, stride, padding, input kind)
    cases = [
        ("stem_k3_s2_p1", (2, 3, 15, 10), 3, 2, 1, "uniform"),
        ("fpn_p6_k1_s2", (1, 3, 13, 17), 1, 2, 0, "uniform"),
        ("ties_k3_s1_p1", (1, 2, 9, 11), 3, 1, 1, "binary"),
        ("constant_k2_s2", (1, 2, 7, 9), 2, 2, 0, "constant"),
        ("neg_inf_k3_s2_p1", (1, 1, 7, 8), 3, 2, 1, "neg_inf"),
    ]
    tensors = {}
    for name, shape, kernel, stride, padding, kind in cases:
        if kind == "binary":
            x = torch.randint(0, 2, shape, generator=g).float()
        elif kind == "constant":
            x = torch.full(shape, 1.5)
        else:
            x = torch.rand(*shape, generator=g) * 10 - 5
        if kind == "neg_inf":
            # Whole windows of -inf: torch then routes the gradient to the window's first element.
            x[..., :4, :4] = float("-inf")
        _, gy, (dx,) = gradients(lambda t: F.max_pool2d(t, kernel, stride, padding), [x], g)
        tensors.update({f"max_pool.{name}.x": x, f"max_pool.{name}.gy": gy, f"max_pool.{name}.dx": dx})
    return tensors


def nearest_cases(g):
    # (name, input shape, interpolate kwargs)
    cases = [
        ("scale2", (1, 2, 5, 7), dict(scale_factor=2.0)),
        ("size_up", (2, 2, 3, 5), dict(size=(7, 11))),
        ("size_down", (1, 2, 13, 9), dict(size=(5, 4))),
        ("scale_mixed", (1, 1, 6, 5), dict(scale_factor=(1.7, 0.6))),
        ("scale_2_05", (1, 1, 10, 10), dict(scale_factor=2.05)),
    ]
    tensors = {}
    for name, shape, kwargs in cases:
        x = torch.rand(*shape, generator=g)
        _, gy, (dx,) = gradients(lambda t: F.interpolate(t, mode="nearest", **kwargs), [x], g)
        tensors.update({f"nearest.{name}.gy": gy, f"nearest.{name}.dx": dx})
    return tensors


def group_norm_cases(g):
    # (name, input shape, groups, affine, relu, input offset)
    cases = [
        ("affine", (2, 6, 5, 7), 3, True, False, 0.0),
        ("relu", (1, 8, 9, 4), 4, True, True, 0.0),
        ("no_affine_large_mean", (2, 4, 3, 3), 2, False, False, 100.0),
        ("fcos_like", (1, 16, 10, 12), 8, True, True, 0.5),
        ("rank3_group_per_channel", (3, 5, 11), 5, True, False, 0.0),
    ]
    tensors = {}
    for name, shape, groups, affine, relu, offset in cases:
        prefix = f"group_norm.{name}."
        x = torch.randn(*shape, generator=g) * 2 + offset
        inputs = [x]
        if affine:
            inputs += [torch.rand(shape[1], generator=g) + 0.5, torch.randn(shape[1], generator=g)]

        def forward(t, *affine_params):
            y = F.group_norm(t, groups, *affine_params, eps=1e-5)
            return F.relu(y) if relu else y

        y, gy, grads = gradients(forward, inputs, g)
        tensors.update({prefix + "x": x, prefix + "y": y, prefix + "gy": gy, prefix + "dx": grads[0]})
        if affine:
            tensors.update({prefix + "gamma": inputs[1], prefix + "beta": inputs[2],
                            prefix + "dgamma": grads[1], prefix + "dbeta": grads[2]})
    return tensors


def main():
    g = torch.Generator().manual_seed(5)
    tensors = {}
    for cases in (relu_cases, max_pool_cases, nearest_cases, group_norm_cases):
        tensors.update(cases(g))
    fixture_io.save(OUT, tensors, {"torch": torch.__version__})
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(tensors)} tensors)")


if __name__ == "__main__":
    main()
