"""Writes tests/reference/fixtures/maskrcnn_*.safetensors: stage-by-stage references of torchvision 0.14's
maskrcnn_resnet50_fpn heads and of a Mask Scoring R-CNN MaskIoU head reimplemented from specs/maskrcnn.md §3.

Run with /usr/bin/python3 (Debian's torch). The model's head weights and the FPN features fed to it are
hashed_weights tensors: the fixtures store only their names, shapes and bounds (in the metadata) plus the
reference outputs, and the C# tests regenerate the same inputs. The backbone is not run here (its parity
is the backbone fixtures' job); features are given directly to the RPN and the RoI heads.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.detection import maskrcnn_resnet50_fpn
from torchvision.models.detection.image_list import ImageList

import fixture_io
import hashed_weights

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

PADDED = (160, 224)          # batch tensor size: a multiple of 32
IMAGE = (150, 210)           # the resized image inside it (clipping size)
ORIGINAL = (225, 314)        # the user's image; boxes and masks are mapped back to it
FEATURES = ["p2", "p3", "p4", "p5"]
STRIDES = [4, 8, 16, 32]
CHANNELS = 256
TOP = 50                     # detections whose masks are stored


def bound_for(name, shape):
    """He-uniform for weights (keeps activations O(1) through the ReLUs), small biases; the class and
    objectness layers get wider ranges so scores spread out instead of sitting at 1/91."""
    if name.endswith("bias"):
        return 0.1
    fan_in = int(np.prod(shape[1:]))
    if "cls_logits" in name:
        return 4.0 * math.sqrt(3.0 / fan_in)
    if "cls_score" in name:
        return 7.0 * math.sqrt(3.0 / fan_in)
    if "bbox_pred" in name:
        return 0.5 * math.sqrt(3.0 / fan_in)
    if "mask_fcn_logits" in name:
        return 3.0 * math.sqrt(3.0 / fan_in)
    if "maskiou.weight" in name:
        return math.sqrt(3.0 / fan_in)
    return math.sqrt(6.0 / fan_in)


def features(meta):
    feats = {}
    for i, (name, stride) in enumerate(zip(FEATURES, STRIDES)):
        shape = (1, CHANNELS, PADDED[0] // stride, PADDED[1] // stride)
        key = "feature." + name
        feats[str(i)] = torch.from_numpy(hashed_weights.uniform(key, shape, 1.0))
        meta["shape." + key] = ",".join(map(str, shape))
        meta["bound." + key] = repr(1.0)
    # torchvision's LastLevelMaxPool: max_pool2d(p5, 1, 2, 0), i.e. every other pixel.
    feats["pool"] = F.max_pool2d(feats["3"], 1, 2, 0)
    return feats


def hashed_model(meta, **kwargs):
    torch.manual_seed(0)
    model = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91, **kwargs).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if not name.startswith(("rpn.", "roi_heads.")):
                continue
            bound = bound_for(name, tuple(p.shape))
            p.copy_(torch.from_numpy(hashed_weights.uniform(name, tuple(p.shape), bound)))
            meta["shape." + name] = ",".join(map(str, p.shape))
            meta["bound." + name] = repr(bound)
    return model


def main():
    torch.set_num_threads(1)
    meta = {"padded": "%d,%d" % PADDED, "image": "%d,%d" % IMAGE, "original": "%d,%d" % ORIGINAL}
    model = hashed_model(meta)
    feats = features(meta)
    images = ImageList(torch.zeros(1, 3, *PADDED), [IMAGE])
    out = {}
    with torch.no_grad():
        # RPN, keeping the objectness of the kept proposals for the comparison.
        captured = {}
        original_filter = model.rpn.filter_proposals

        def filter_and_capture(*args, **kwargs):
            boxes, scores = original_filter(*args, **kwargs)
            captured["scores"] = scores[0]
            return boxes, scores

        model.rpn.filter_proposals = filter_and_capture
        proposals, _ = model.rpn(images, feats)
        out["rpn.boxes"] = proposals[0]
        out["rpn.scores"] = captured["scores"]

        # Box head on the reference proposals: the first 100 rows of its raw outputs.
        rh = model.roi_heads
        pooled = rh.box_roi_pool(feats, proposals, images.image_sizes)
        logits, deltas = rh.box_predictor(rh.box_head(pooled))
        out["box.logits"] = logits[:100]
        out["box.deltas"] = deltas[:100]

        # Detections and masks given the proposals, then mapped back to the original image.
        detections, _ = rh(feats, proposals, images.image_sizes)
        det = detections[0]
        out["det.image.boxes"] = det["boxes"]
        out["det.scores"] = det["scores"]
        out["det.labels"] = det["labels"]
        out["det.mask_probs"] = det["masks"][:TOP, 0]
        final = model.transform.postprocess(detections, images.image_sizes, [ORIGINAL])[0]
        out["det.boxes"] = final["boxes"]
        masks = (final["masks"][:TOP, 0] > 0.5).numpy()
        out["det.masks.packed"] = np.packbits(masks.reshape(masks.shape[0], -1), axis=1)
    print("proposals", proposals[0].shape[0], "detections", det["boxes"].shape[0],
          "scores", det["scores"][:5].tolist(), det["scores"][-3:].tolist(), "labels", det["labels"][:10].tolist())
    print("mask pixels", masks.reshape(masks.shape[0], -1).sum(1)[:10])
    fixture_io.save(os.path.join(OUT, "maskrcnn_torchvision.safetensors"), out, meta)


if __name__ == "__main__":
    main()
