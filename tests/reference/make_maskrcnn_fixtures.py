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
from torchvision.ops import roi_align

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


MSRCNN_CLASSES = 81
MSRCNN_DETECTIONS = 24


def msrcnn_level(boxes):
    # maskrcnn_benchmark/modeling/poolers.py LevelMapper: "+1" box sides, eps inside the log.
    area = (boxes[:, 2] - boxes[:, 0] + 1) * (boxes[:, 3] - boxes[:, 1] + 1)
    level = torch.floor(4 + torch.log2(torch.sqrt(area) / 224 + 1e-6))
    return torch.clamp(level, min=2, max=5).to(torch.int64) - 2


def msrcnn_pool(feats, boxes, size):
    rois = torch.cat([torch.zeros(boxes.shape[0], 1), boxes], dim=1)
    levels = msrcnn_level(boxes)
    out = torch.zeros(boxes.shape[0], CHANNELS, size, size)
    for lv in range(4):
        idx = torch.nonzero(levels == lv).flatten()
        if idx.numel():
            out[idx] = roi_align(feats[str(lv)], rois[idx], size, 1.0 / STRIDES[lv], 2, aligned=False)
    return out


def msrcnn_weights(meta):
    """MS R-CNN's mask and MaskIoU heads under maskrcnn-benchmark's names (spec §3.4)."""
    shapes = {}
    for i in range(1, 5):
        shapes["roi_heads.mask.feature_extractor.mask_fcn%d.weight" % i] = (CHANNELS, CHANNELS, 3, 3)
        shapes["roi_heads.mask.feature_extractor.mask_fcn%d.bias" % i] = (CHANNELS,)
        shapes["roi_heads.maskiou.feature_extractor.maskiou_fcn%d.weight" % i] = (CHANNELS, CHANNELS + (i == 1), 3, 3)
        shapes["roi_heads.maskiou.feature_extractor.maskiou_fcn%d.bias" % i] = (CHANNELS,)
    # The RPN and box head are not exercised here, but the C# model is built whole.
    shapes.update({
        "rpn.head.conv.weight": (CHANNELS, CHANNELS, 3, 3), "rpn.head.conv.bias": (CHANNELS,),
        "rpn.head.cls_logits.weight": (3, CHANNELS, 1, 1), "rpn.head.cls_logits.bias": (3,),
        "rpn.head.bbox_pred.weight": (12, CHANNELS, 1, 1), "rpn.head.bbox_pred.bias": (12,),
        "roi_heads.box.feature_extractor.fc6.weight": (1024, CHANNELS * 49), "roi_heads.box.feature_extractor.fc6.bias": (1024,),
        "roi_heads.box.feature_extractor.fc7.weight": (1024, 1024), "roi_heads.box.feature_extractor.fc7.bias": (1024,),
        "roi_heads.box.predictor.cls_score.weight": (MSRCNN_CLASSES, 1024), "roi_heads.box.predictor.cls_score.bias": (MSRCNN_CLASSES,),
        "roi_heads.box.predictor.bbox_pred.weight": (MSRCNN_CLASSES * 4, 1024), "roi_heads.box.predictor.bbox_pred.bias": (MSRCNN_CLASSES * 4,),
        "roi_heads.mask.predictor.conv5_mask.weight": (CHANNELS, CHANNELS, 2, 2),
        "roi_heads.mask.predictor.conv5_mask.bias": (CHANNELS,),
        "roi_heads.mask.predictor.mask_fcn_logits.weight": (MSRCNN_CLASSES, CHANNELS, 1, 1),
        "roi_heads.mask.predictor.mask_fcn_logits.bias": (MSRCNN_CLASSES,),
        "roi_heads.maskiou.feature_extractor.maskiou_fc1.weight": (1024, CHANNELS * 49),
        "roi_heads.maskiou.feature_extractor.maskiou_fc1.bias": (1024,),
        "roi_heads.maskiou.feature_extractor.maskiou_fc2.weight": (1024, 1024),
        "roi_heads.maskiou.feature_extractor.maskiou_fc2.bias": (1024,),
        "roi_heads.maskiou.predictor.maskiou.weight": (MSRCNN_CLASSES, 1024),
        "roi_heads.maskiou.predictor.maskiou.bias": (MSRCNN_CLASSES,),
    })
    w = {}
    for name, shape in shapes.items():
        bound = bound_for(name, shape)
        w[name] = torch.from_numpy(hashed_weights.uniform(name, shape, bound))
        meta["shape." + name] = ",".join(map(str, shape))
        meta["bound." + name] = repr(bound)
    return w


def msrcnn():
    """Mask head + MaskIoU head of Mask Scoring R-CNN on given detections (no torch model exists for it)."""
    meta = {}
    feats = features(meta)
    w = msrcnn_weights(meta)
    g = torch.Generator().manual_seed(5)
    xy = torch.rand(MSRCNN_DETECTIONS, 2, generator=g) * torch.tensor([IMAGE[1] - 20.0, IMAGE[0] - 20.0])
    wh = 4 + torch.rand(MSRCNN_DETECTIONS, 2, generator=g) * 140
    boxes = torch.cat([xy, torch.minimum(xy + wh, torch.tensor([IMAGE[1] - 1.0, IMAGE[0] - 1.0]))], dim=1)
    labels = torch.randint(1, MSRCNN_CLASSES, (MSRCNN_DETECTIONS,), generator=g)
    scores = 0.05 + 0.95 * torch.rand(MSRCNN_DETECTIONS, generator=g)
    m = "roi_heads.mask."
    i = "roi_heads.maskiou.feature_extractor."
    with torch.no_grad():
        pooled = msrcnn_pool(feats, boxes, 14)
        x = pooled
        for k in range(1, 5):
            x = F.relu(F.conv2d(x, w[m + "feature_extractor.mask_fcn%d.weight" % k], w[m + "feature_extractor.mask_fcn%d.bias" % k], padding=1))
        x = F.relu(F.conv_transpose2d(x, w[m + "predictor.conv5_mask.weight"], w[m + "predictor.conv5_mask.bias"], stride=2))
        logits = F.conv2d(x, w[m + "predictor.mask_fcn_logits.weight"], w[m + "predictor.mask_fcn_logits.bias"])
        probs = logits.sigmoid()[torch.arange(MSRCNN_DETECTIONS), labels]
        # MaskIoU head (spec §3.1): mask features + 2x2-max-pooled predicted mask as channel 257.
        y = torch.cat((pooled, F.max_pool2d(probs[:, None], kernel_size=2, stride=2)), 1)
        for k in range(1, 5):
            y = F.relu(F.conv2d(y, w[i + "maskiou_fcn%d.weight" % k], w[i + "maskiou_fcn%d.bias" % k], stride=2 if k == 4 else 1, padding=1))
        y = y.flatten(1)
        y = F.relu(F.linear(y, w[i + "maskiou_fc1.weight"], w[i + "maskiou_fc1.bias"]))
        y = F.relu(F.linear(y, w[i + "maskiou_fc2.weight"], w[i + "maskiou_fc2.bias"]))
        ious = F.linear(y, w["roi_heads.maskiou.predictor.maskiou.weight"], w["roi_heads.maskiou.predictor.maskiou.bias"])
        maskiou = ious[torch.arange(MSRCNN_DETECTIONS), labels]
    out = {"boxes": boxes, "labels": labels, "scores": scores, "mask_probs": probs,
           "maskiou": maskiou, "mask_scores": scores * maskiou}
    print("msrcnn maskiou", maskiou[:6].tolist())
    fixture_io.save(os.path.join(OUT, "maskrcnn_msrcnn.safetensors"), out, meta)


if __name__ == "__main__":
    main()
    msrcnn()
