"""Writes tests/reference/fixtures/tape_mini_detector.safetensors: a miniature two-stage detector built from
every differentiable op NativeSeg's tape records (conv + frozen BatchNorm + ReLU, max-pool, residual add-ReLU,
strided conv, nearest upsampling + add, GroupNorm + ReLU, RoIAlign, linear + ReLU, transposed conv, class
selection by gather, cross-entropy, smooth-L1, BCE-with-logits), one forward and torch autograd's backward.
The C# test builds the same network from the stored weights with NativeSeg's modules, records it on a tape and
compares the losses and every trainable parameter's gradient.

Run with /usr/bin/python3 (Debian's torch 1.13 and torchvision 0.14).
"""
import os

import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "tape_mini_detector.safetensors")

C, K, GROUPS = 8, 3, 4


def main():
    g = torch.Generator().manual_seed(11)

    def rand(*shape, scale=0.3):
        return ((torch.rand(*shape, generator=g) * 2 - 1) * scale).requires_grad_(True)

    w = {
        "stem.weight": rand(C, 3, 3, 3),
        "c2.weight": rand(C, C, 3, 3),
        "c2.bias": rand(C),
        "lat.weight": rand(C, C, 1, 1),
        "lat.bias": rand(C),
        "top.weight": rand(C, C, 3, 3),
        "top.bias": rand(C),
        "gn.weight": rand(C, scale=0.5),
        "gn.bias": rand(C),
        "fc1.weight": rand(16, C * 4 * 4, scale=0.1),
        "fc1.bias": rand(16),
        "cls.weight": rand(K, 16),
        "cls.bias": rand(K),
        "box.weight": rand(K * 4, 16),
        "box.bias": rand(K * 4),
        "deconv.weight": rand(C, C, 2, 2),
        "deconv.bias": rand(C),
        "mask.weight": rand(K, C, 1, 1),
        "mask.bias": rand(K),
    }
    bn = {
        "stem.norm.weight": torch.rand(C, generator=g) + 0.5,
        "stem.norm.bias": torch.rand(C, generator=g) - 0.5,
        "stem.norm.running_mean": torch.rand(C, generator=g) - 0.5,
        "stem.norm.running_var": torch.rand(C, generator=g) + 0.5,
    }
    x = torch.rand(2, 3, 20, 24, generator=g) * 4 - 2
    # (batch, x1, y1, x2, y2) in input pixels: inside, partly outside, tiny, zero-area, the whole image.
    rois = torch.tensor([[0, 2.0, 3.0, 15.0, 12.0], [1, -4.0, 5.0, 9.0, 30.0], [1, 6.0, 6.0, 7.5, 7.0],
                         [0, 10.0, 4.0, 10.0, 4.0], [1, 0.0, 0.0, 24.0, 20.0]])
    labels = torch.tensor([1, 2, 0, 1, 2], dtype=torch.int64)
    box_targets = torch.rand(5, 4, generator=g) - 0.5
    mask_targets = (torch.rand(5, 8 * 8, generator=g) > 0.5).float()

    scale = bn["stem.norm.weight"] / torch.sqrt(bn["stem.norm.running_var"] + 1e-5)
    shift = bn["stem.norm.bias"] - bn["stem.norm.running_mean"] * scale
    stem = F.relu(F.conv2d(x, w["stem.weight"], padding=1) * scale[None, :, None, None] + shift[None, :, None, None])
    pooled = F.max_pool2d(stem, 3, 2, 1)
    res = F.relu(F.conv2d(pooled, w["c2.weight"], w["c2.bias"], padding=1) + pooled)
    lateral = F.conv2d(res, w["lat.weight"], w["lat.bias"])
    top = F.conv2d(res, w["top.weight"], w["top.bias"], stride=2, padding=1)
    fused = lateral + F.interpolate(top, size=lateral.shape[-2:], mode="nearest")
    features = F.relu(F.group_norm(fused, GROUPS, w["gn.weight"], w["gn.bias"], 1e-5))
    roi_features = roi_align(features, rois, (4, 4), spatial_scale=0.5, sampling_ratio=2, aligned=False)
    hidden = F.relu(F.linear(roi_features.flatten(1), w["fc1.weight"], w["fc1.bias"]))
    logits = F.linear(hidden, w["cls.weight"], w["cls.bias"])
    deltas = F.linear(hidden, w["box.weight"], w["box.bias"]).reshape(5 * K, 4)[torch.arange(5) * K + labels]
    up = F.relu(F.conv_transpose2d(roi_features, w["deconv.weight"], w["deconv.bias"], stride=2))
    masks = F.conv2d(up, w["mask.weight"], w["mask.bias"]).reshape(5 * K, 64)[torch.arange(5) * K + labels]

    loss_cls = F.cross_entropy(logits, labels)
    loss_box = F.smooth_l1_loss(deltas, box_targets, beta=1.0 / 9, reduction="sum") / 5
    loss_mask = F.binary_cross_entropy_with_logits(masks, mask_targets)
    (loss_cls + loss_box + loss_mask).backward()

    out = {name: t.detach() for name, t in {**w, **bn}.items()}
    out.update({"grad." + name: t.grad for name, t in w.items()})
    out.update({"input.x": x, "input.rois": rois, "input.labels": labels, "input.box_targets": box_targets,
                "input.mask_targets": mask_targets, "loss.cls": loss_cls.detach().reshape(1),
                "loss.box": loss_box.detach().reshape(1), "loss.mask": loss_mask.detach().reshape(1)})
    fixture_io.save(OUT, out)
    print(f"wrote {OUT}: losses {loss_cls.item():.6f} {loss_box.item():.6f} {loss_mask.item():.6f}")


if __name__ == "__main__":
    main()
