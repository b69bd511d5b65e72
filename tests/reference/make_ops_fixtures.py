"""Writes tests/reference/fixtures/ops_*.safetensors: torch 1.13 references for resize, GroupNorm,
softmax and top-k. Each case stores its input ("<case>.x") and torch's output; the C# tests know each
case's arguments by name.

Run with /usr/bin/python3 (Debian's torch). Inputs are random but seeded, and stored, so the C# side
never needs torch's generator.
"""
import os

import torch
import torch.nn.functional as F

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")


def resize_cases():
    g = torch.Generator().manual_seed(1)

    def rand(*shape):
        return torch.rand(*shape, generator=g) * 8 - 4

    # (name, input shape, interpolate kwargs)
    cases = [
        ("nearest_scale2", (1, 2, 5, 7), dict(scale_factor=2.0, mode="nearest")),
        ("nearest_size_up", (1, 2, 3, 5), dict(size=(7, 11), mode="nearest")),
        ("nearest_size_down", (1, 2, 13, 9), dict(size=(5, 4), mode="nearest")),
        ("nearest_scale_mixed", (1, 1, 6, 5), dict(scale_factor=(1.7, 0.6), mode="nearest")),
        # floor(10 * 2.05) = 20 = 2 * 10: torch takes its shift shortcut, not 1/2.05.
        ("nearest_scale_2_05", (1, 1, 10, 10), dict(scale_factor=2.05, mode="nearest")),
        # height 2 * 1.4 -> 2 (unchanged, copied), width 3 * 1.4 -> 4 (scale 1/1.4, not 3/4).
        ("nearest_scale_1_4", (1, 1, 2, 3), dict(scale_factor=1.4, mode="nearest")),
    ]
    for align in (False, True):
        tag = "align" if align else "half"
        cases += [
            (f"bilinear_{tag}_size_up", (2, 3, 4, 5), dict(size=(9, 13), mode="bilinear", align_corners=align)),
            (f"bilinear_{tag}_size_down", (1, 2, 17, 12), dict(size=(5, 7), mode="bilinear", align_corners=align)),
            (f"bilinear_{tag}_scale_up", (1, 4, 3, 3), dict(scale_factor=4.0, mode="bilinear", align_corners=align)),
            (f"bilinear_{tag}_scale_down", (1, 1, 11, 13), dict(scale_factor=(0.5, 0.3), mode="bilinear", align_corners=align)),
            (f"bilinear_{tag}_to_one", (1, 1, 6, 4), dict(size=(1, 1), mode="bilinear", align_corners=align)),
            (f"bilinear_{tag}_scale_1_4", (1, 1, 2, 5), dict(scale_factor=1.4, mode="bilinear", align_corners=align)),
        ]
    tensors = {}
    for name, shape, kwargs in cases:
        x = rand(*shape)
        tensors[name + ".x"] = x
        tensors[name + ".y"] = F.interpolate(x, **kwargs)
    return tensors


def group_norm_cases():
    g = torch.Generator().manual_seed(2)
    # (name, input shape, groups, affine, relu, input offset)
    cases = [
        ("affine", (2, 6, 5, 7), 3, True, False, 0.0),
        ("relu", (1, 8, 9, 4), 4, True, True, 0.0),
        ("no_affine_large_mean", (2, 4, 3, 3), 2, False, False, 100.0),
        ("fcos_like", (1, 16, 10, 12), 8, True, True, 0.5),
    ]
    tensors = {}
    for name, shape, groups, affine, relu, offset in cases:
        x = torch.randn(*shape, generator=g) * 2 + offset
        tensors[name + ".x"] = x
        if affine:
            gamma = torch.rand(shape[1], generator=g) + 0.5
            beta = torch.randn(shape[1], generator=g)
            tensors[name + ".gamma"] = gamma
            tensors[name + ".beta"] = beta
            y = F.group_norm(x, groups, gamma, beta, eps=1e-5)
        else:
            y = F.group_norm(x, groups, eps=1e-5)
        tensors[name + ".y"] = F.relu(y) if relu else y
    return tensors


def softmax_cases():
    g = torch.Generator().manual_seed(3)
    cases = [("classes", (37, 81), 1.0), ("long_rows", (2, 3, 1000), 3.0), ("large_logits", (4, 33), 80.0)]
    tensors = {}
    for name, shape, scale in cases:
        x = torch.randn(*shape, generator=g) * scale
        tensors[name + ".x"] = x
        tensors[name + ".y"] = torch.softmax(x, dim=-1)
    return tensors


def topk_reference(x, k):
    """torch.topk's values, with ties ordered by index: a stable descending sort, cut at k.
    torch.topk's own tie order is unspecified; its values must agree."""
    values, indices = torch.sort(x, dim=-1, descending=True, stable=True)
    values, indices = values[..., :k], indices[..., :k]
    expected = torch.topk(x, k, dim=-1).values
    assert torch.equal(values, expected) or torch.allclose(values, expected, equal_nan=True)
    return values, indices


def topk_cases():
    g = torch.Generator().manual_seed(4)
    tensors = {}
    x = torch.randn(1, 5000, generator=g)
    tensors["random.x"] = x
    tensors["random.values"], tensors["random.indices"] = topk_reference(x, 300)
    assert torch.equal(tensors["random.indices"], torch.topk(x, 300).indices)

    x = torch.randint(-3, 3, (4, 500), generator=g).float()
    tensors["ties.x"] = x
    tensors["ties.values"], tensors["ties.indices"] = topk_reference(x, 100)

    x = torch.randint(-2, 2, (2, 64), generator=g).float()
    specials = torch.tensor([float("nan"), float("inf"), float("-inf"), -0.0, 0.0])
    x[:, ::7] = specials.repeat(2)[: x[:, ::7].shape[1]]
    tensors["specials.x"] = x
    tensors["specials.values"], tensors["specials.indices"] = topk_reference(x, 20)
    return tensors


def main():
    os.makedirs(OUT, exist_ok=True)
    fixture_io.save(os.path.join(OUT, "ops_resize.safetensors"), resize_cases())
    fixture_io.save(os.path.join(OUT, "ops_group_norm.safetensors"), group_norm_cases())
    fixture_io.save(os.path.join(OUT, "ops_softmax.safetensors"), softmax_cases())
    fixture_io.save(os.path.join(OUT, "ops_topk.safetensors"), topk_cases())


if __name__ == "__main__":
    main()
