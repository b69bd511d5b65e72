"""Writes tests/reference/fixtures/training_step_{r18,r50}.safetensors: torchvision 0.14 Mask R-CNN training steps
that NativeSeg's MaskRcnnLosses, tape and SgdOptimizer must reproduce (TrainingStepParityTests.cs).

Run with /usr/bin/python3 (Debian's torch 1.13 and torchvision 0.14).

The models are torchvision's MaskRCNN on a ResNet-18 (and a ResNet-50) FPN body with FrozenBatchNorm2d (eps 1e-5,
randomised statistics so the norm does something) and narrow heads, with torchvision's trainable_layers=3
freezing (conv1 and layer1 get no gradient). The model is driven in train mode on a normalised, padded batch
given straight to the backbone, RPN and RoI heads as an ImageList (GeneralizedRCNNTransform bypassed), so both
sides see the same pixels.

torch's randperm cannot be reproduced in C#, so the RPN's and RoI heads' fg_bg_sampler are wrapped to record the
indices they drew, and the proposals the RoI heads received are recorded too; the C# test replays all three.

A full ResNet is far too big to commit, so every weight of two or more dimensions is a hashed tensor
(hashed_weights.py: the metadata holds its shape and bound, the C# test recomputes it) and only the 1-D tensors
(biases, BatchNorm) are stored. Gradients are stored whole up to FULL_GRADIENT elements; larger ones at SAMPLES
evenly spaced flat positions (element (k * numel) // SAMPLES) plus their L2 norm.

R18 also records STEPS steps of torch.optim.SGD with the samples and proposals of every step.
"""
import json
import math
import os

import numpy as np
import torch
from PIL import Image, ImageDraw
from torchvision.models import resnet18, resnet50
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops import FrozenBatchNorm2d
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

import fixture_io
import hashed_weights

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

SEED = 20240612
PADDED = (96, 128)
SIZES = [(96, 128), (80, 112)]  # the second image is padded on the right and bottom
FPN, BOX, MASK, CLASSES = 32, 64, 32, 4  # CLASSES counts the background
FULL_GRADIENT = 8192
SAMPLES = 2048
STEPS = 10
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 1e-4
MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]

# Per image: (label, polygon) with polygon corners in pixels.
INSTANCES = [
    [(1, [(8, 10), (44, 6), (50, 40), (20, 46)]),
     (2, [(60, 20), (118, 24), (110, 60), (70, 56)]),
     (3, [(30, 58), (64, 52), (72, 90), (26, 86)]),
     (1, [(96, 66), (124, 70), (120, 92), (98, 88)])],
    [(2, [(6, 6), (40, 12), (34, 40), (10, 34)]),
     (3, [(50, 30), (104, 26), (100, 74), (56, 70)]),
     (1, [(14, 52), (40, 50), (44, 76), (12, 74)])],
]


def build(depth):
    body = (resnet18 if depth == 18 else resnet50)(weights=None, norm_layer=FrozenBatchNorm2d)
    stages = [64, 128, 256, 512] if depth == 18 else [256, 512, 1024, 2048]
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
                               stages, FPN, extra_blocks=LastLevelMaxPool())
    model = MaskRCNN(backbone, num_classes=None,
                     box_head=TwoMLPHead(FPN * 7 * 7, BOX), box_predictor=FastRCNNPredictor(BOX, CLASSES),
                     mask_head=MaskRCNNHeads(FPN, (MASK,) * 4, 1), mask_predictor=MaskRCNNPredictor(MASK, MASK, CLASSES))
    # torchvision's trainable_layers=3: layer2..layer4 train, conv1 and layer1 do not (FrozenBatchNorm2d has no parameters).
    for name, p in body.named_parameters():
        if not name.startswith(("layer2", "layer3", "layer4")):
            p.requires_grad_(False)
    return model


def randomise(model, g):
    """Hashed weights for tensors of 2+ dimensions (He-uniform bound on the fan-in); seeded 1-D tensors."""
    hashed, stored = {}, {}
    state = model.state_dict()
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        if value.dim() >= 2:
            bound = math.sqrt(3.0 / (value[0].numel()))
            value.copy_(torch.from_numpy(hashed_weights.uniform(key, list(value.shape), bound)))
            hashed[key] = bound
            continue
        if key.endswith("running_var"):
            value.copy_(torch.rand(value.shape, generator=g) + 0.5)
        elif key.endswith("running_mean"):
            value.copy_((torch.rand(value.shape, generator=g) - 0.5) * 0.4)
        elif ".bn" in key or "downsample.1" in key:
            value.copy_(torch.rand(value.shape, generator=g) + 0.5 if key.endswith("weight") else (torch.rand(value.shape, generator=g) - 0.5) * 0.2)
        else:
            value.copy_((torch.rand(value.shape, generator=g) - 0.5) * 0.02)
        stored[key] = value.clone()
    return hashed, stored


def images_and_targets(g):
    batch = torch.zeros(len(SIZES), 3, *PADDED)
    targets = []
    for n, ((h, w), instances) in enumerate(zip(SIZES, INSTANCES)):
        pixels = torch.rand(3, h, w, generator=g) * 0.3 + 0.2
        masks = []
        for label, polygon in instances:
            canvas = Image.new("L", (w, h), 0)
            ImageDraw.Draw(canvas).polygon(polygon, fill=1)
            mask = torch.from_numpy(np.array(canvas, dtype=np.uint8))
            pixels[:, mask.bool()] = torch.rand(3, 1, generator=g) * 0.6 + 0.3
            masks.append(mask)
        masks = torch.stack(masks)
        boxes = []
        for m in masks:
            ys, xs = torch.where(m > 0)
            boxes.append([xs.min().item(), ys.min().item(), xs.max().item() + 1.0, ys.max().item() + 1.0])
        batch[n, :, :h, :w] = (pixels - torch.tensor(MEAN)[:, None, None]) / torch.tensor(STD)[:, None, None]
        targets.append({"boxes": torch.tensor(boxes, dtype=torch.float32),
                        "labels": torch.tensor([label for label, _ in instances], dtype=torch.int64), "masks": masks})
    return batch, targets


class Recorder:
    """Wraps a BalancedPositiveNegativeSampler to keep the per-image indices it drew."""

    def __init__(self, sampler):
        self.sampler, self.drawn = sampler, []

    def __call__(self, labels):
        pos, neg = self.sampler(labels)
        self.drawn = [(torch.where(p)[0], torch.where(q)[0]) for p, q in zip(pos, neg)]
        return pos, neg


def step(model, batch, targets, seed):
    """One forward in train mode; returns the five losses in torchvision's order and what was drawn."""
    torch.manual_seed(seed)
    rpn_sampler, roi_sampler = Recorder(model.rpn.fg_bg_sampler), Recorder(model.roi_heads.fg_bg_sampler)
    model.rpn.fg_bg_sampler, model.roi_heads.fg_bg_sampler = rpn_sampler, roi_sampler
    try:
        images = ImageList(batch, SIZES)
        features = model.backbone(batch)
        proposals, rpn_losses = model.rpn(images, features, targets)
        _, head_losses = model.roi_heads(features, proposals, images.image_sizes, targets)
    finally:
        model.rpn.fg_bg_sampler, model.roi_heads.fg_bg_sampler = rpn_sampler.sampler, roi_sampler.sampler
    losses = [rpn_losses["loss_objectness"], rpn_losses["loss_rpn_box_reg"], head_losses["loss_classifier"],
              head_losses["loss_box_reg"], head_losses["loss_mask"]]
    return losses, rpn_sampler.drawn, [p.detach().clone() for p in proposals], roi_sampler.drawn


def record_draws(out, prefix, anchors, proposals, rois):
    for n in range(len(SIZES)):
        out[f"{prefix}.image{n}.anchors_pos"] = anchors[n][0].to(torch.int32)
        out[f"{prefix}.image{n}.anchors_neg"] = anchors[n][1].to(torch.int32)
        out[f"{prefix}.image{n}.proposals"] = proposals[n]
        out[f"{prefix}.image{n}.rois_pos"] = rois[n][0].to(torch.int32)
        out[f"{prefix}.image{n}.rois_neg"] = rois[n][1].to(torch.int32)


def gradient_entries(out, model):
    for key, p in model.named_parameters():
        if not p.requires_grad:
            continue
        assert p.grad is not None, key
        flat = p.grad.reshape(-1)
        if flat.numel() <= FULL_GRADIENT:
            out["grad." + key] = p.grad.clone()  # SGD later zeroes and refills p.grad in place
        else:
            out["gradsample." + key] = flat[(torch.arange(SAMPLES) * flat.numel()) // SAMPLES]
            out["gradnorm." + key] = flat.double().norm().float().reshape(1)


def make(depth, steps):
    g = torch.Generator().manual_seed(SEED + depth)
    model = build(depth)
    hashed, stored = randomise(model, g)
    batch, targets = images_and_targets(g)
    model.train()

    out = {"input.batch": batch}
    for n, t in enumerate(targets):
        out[f"gt{n}.boxes"], out[f"gt{n}.labels"], out[f"gt{n}.masks"] = t["boxes"], t["labels"], t["masks"]
    for key, value in stored.items():
        out["weight." + key] = value

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=LR, momentum=MOMENTUM, weight_decay=WEIGHT_DECAY)
    history = []
    for s in range(steps):
        optimizer.zero_grad()
        losses, anchors, proposals, rois = step(model, batch, targets, SEED + 100 * depth + s)
        history.append(torch.stack([l.detach().reshape(()) for l in losses]))
        record_draws(out, f"step{s}", anchors, proposals, rois)
        sum(losses).backward()
        if s == 0:
            gradient_entries(out, model)
            print(f"R{depth} losses", [f"{l.item():.5f}" for l in losses],
                  "sampled anchors", [len(a[0]) + len(a[1]) for a in anchors], "positives", [len(a[0]) for a in anchors],
                  "proposals", [len(p) for p in proposals], "roi fg", [len(r[0]) for r in rois])
        optimizer.step()
    out["losses"] = torch.stack(history)
    print(f"R{depth} loss history (sum)", [f"{h.sum().item():.4f}" for h in history])

    arch = "maskrcnn_resnet18_fpn_torchvision" if depth == 18 else "maskrcnn_resnet50_fpn_torchvision"
    config = {"num_classes": CLASSES, "category_ids": list(range(1, CLASSES)), "fpn_channels": FPN,
              "box_representation": BOX, "mask_conv_dim": MASK, "norm_eps": 1e-5}
    metadata = {"architecture": arch, "config": json.dumps(config), "steps": steps, "lr": LR, "momentum": MOMENTUM,
                "weight_decay": WEIGHT_DECAY, "samples": SAMPLES, "padded": "%d,%d" % PADDED,
                "sizes": ";".join("%d,%d" % s for s in SIZES)}
    for key, bound in hashed.items():
        metadata["shape." + key] = ",".join(str(d) for d in model.state_dict()[key].shape)
        metadata["bound." + key] = repr(bound)
    path = os.path.join(OUT, f"training_step_r{depth}.safetensors")
    fixture_io.save(path, out, metadata=metadata)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    torch.set_num_threads(1)
    make(18, STEPS)
    make(50, 1)


if __name__ == "__main__":
    main()
