"""Writes tests/reference/fixtures/bcnet_model.safetensors: BCNet's FCOS R50-FPN at full width (256 channels), from
specs/bcnet.md, run end to end on a small image: detectron2 preprocessing (PIL bilinear ResizeShortestEdge, BGR,
MSRA mean, pad to 32), the detectron2 ResNet-50 (FrozenBN eps 1e-5, stride in the 1x1 conv), the res3-res5 FPN
with P6/P7 from P5, the FCOS head and post-processing, the bilayer mask head on P3-P7, then detector_postprocess
(scale to the original size, clip, drop empty boxes, paste at >= 0.5).

Run with /usr/bin/python3 (Debian's torch). Every tensor of the model is offset + hashed_weights uniform under
BCNet's keys; the metadata stores each one's shape, bound and offset, so the C# test rebuilds the same file and
the fixture holds only the image and the checkpoints: P3-P7 per-channel sums and every 32nd channel, the whole
FCOS head outputs, the detections before and after detector_postprocess, the top detections' 28x28 occludee mask
probabilities and every detection's pasted mask as packed bits.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import fixture_io
import hashed_weights
import make_bcnet_fixtures as heads
from make_detection_fixtures import paste_detectron2
from make_maskrcnn_image_fixtures import synthetic

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "bcnet_model.safetensors")

C = 256
# The heads fixture's functions read the width from their module (pool() allocates with it).
heads.C = C
IMAGE = (96, 128)
MIN_SIZE, MAX_SIZE = 128, 256
PIXEL_MEAN_BGR = [103.530, 116.280, 123.675]
FROZEN_BN_EPS = 1e-5
STAGE_BLOCKS = [3, 4, 6, 3]
MASK_TOP = 16
CHANNEL_STEP = 32


def keys():
    """(name, shape) of every tensor of the model, in BCNet's layout (spec 2.1, 2.2)."""
    out = []

    def conv(name, cout, cin, k, bias=True):
        out.append((name + ".weight", (cout, cin, k, k)))
        if bias:
            out.append((name + ".bias", (cout,)))

    def frozen(name, conv_name, cout, cin, k):
        conv(conv_name, cout, cin, k, bias=False)
        for p in ("weight", "bias", "running_mean", "running_var"):
            out.append((name + ".norm." + p, (cout,)))

    b = "backbone.bottom_up."
    frozen(b + "stem.conv1", b + "stem.conv1", 64, 3, 7)
    cin = 64
    for s, blocks in enumerate(STAGE_BLOCKS):
        cout = 256 << s
        mid = cout // 4
        for i in range(blocks):
            p = "%sres%d.%d." % (b, s + 2, i)
            if i == 0:
                frozen(p + "shortcut", p + "shortcut", cout, cin, 1)
            frozen(p + "conv1", p + "conv1", mid, cin if i == 0 else cout, 1)
            frozen(p + "conv2", p + "conv2", mid, mid, 3)
            frozen(p + "conv3", p + "conv3", cout, mid, 1)
        cin = cout
    for level, stage_channels in zip((3, 4, 5), (512, 1024, 2048)):
        conv("backbone.fpn_lateral%d" % level, C, stage_channels, 1)
        conv("backbone.fpn_output%d" % level, C, C, 3)
    conv("backbone.top_block.p6", C, C, 3)
    conv("backbone.top_block.p7", C, C, 3)
    for tower in ("cls_tower", "bbox_tower"):
        for i in range(4):
            conv("head.%s.%d" % (tower, 3 * i), C, C, 3)
            out.append(("head.%s.%d.weight" % (tower, 3 * i + 1), (C,)))
            out.append(("head.%s.%d.bias" % (tower, 3 * i + 1), (C,)))
    conv("head.cls_logits", heads.CLASSES, C, 3)
    conv("head.bbox_pred", 4, C, 3)
    conv("head.centerness", 1, C, 3)
    for level in range(5):
        out.append(("head.scales.%d.scale" % level, (1,)))
    m = "mask_head."
    for i in range(1, 5):
        conv(m + "mask_fcn%d" % i, C, C, 3)
        conv(m + "boundary_fcn%d" % i, C, C, 3)
    for name in ("deconv", "boundary_deconv_bo", "boundary_deconv", "bo_deconv"):
        conv(m + name, C, C, 2)
    for suffix in ("_bo", ""):
        for t in ("query", "key", "value", "output"):
            conv(m + "%s_transform_bound%s" % (t, suffix), C, C, 1, bias=False)
        for p in ("weight", "bias", "running_mean", "running_var"):
            out.append((m + "blocker_bound" + suffix + "." + p, (C,)))
    for name in ("predictor", "predictor_bo", "boundary_predictor_bo", "boundary_predictor"):
        conv(m + name, 1, C, 1)
    return out


def rule(name, shape):
    """(offset, bound): value = offset + uniform(-bound, bound)."""
    if name.endswith("running_var"):
        return 1.0, 0.5
    if name.endswith("running_mean"):
        return 0.0, 0.1
    if name.startswith("head.scales."):
        # One scale per level, as trained models have (0.7, 0.85, ...): the uniform part is zero.
        return 0.7 + 0.15 * int(name.split(".")[2]), 0.0
    if name.endswith(("conv3.norm.weight", "shortcut.norm.weight")):
        # Each block's last FrozenBN scaled down so 16 residual sums keep the features O(1).
        return 0.25, 0.05
    if len(shape) == 1 and (".norm." in name or ".blocker_bound" in name or "_tower." in name):
        return (1.0 if name.endswith("weight") else 0.0), 0.2
    if name == "head.cls_logits.bias":
        # Below the focal-loss prior's -4.6 on average, so sigmoid(cls) > 0.03 only where the features push it up.
        return -5.8, 0.1
    if name == "head.bbox_pred.bias":
        return 2.0, 0.3
    if name.endswith("bias"):
        return 0.0, 0.1
    fan_in = int(np.prod(shape[1:]))
    if name.startswith("mask_head.") and "deconv" in name:
        fan_in = shape[0] * shape[2] * shape[3]
    he = math.sqrt(6.0 / fan_in)
    if name == "head.cls_logits.weight":
        return 0.0, 0.8 * he
    if name in ("head.bbox_pred.weight", "head.centerness.weight"):
        return 0.0, 0.5 * he
    if name.startswith("backbone.fpn_lateral"):
        # The ResNet's res3-res5 reach O(100); real FPN levels are O(1-10), and the mask head, without a norm,
        # passes their scale on quadratically to the non-local attention logits, where O(1000) saturates the
        # softmax into an argmax that float32 rounding flips.
        return 0.0, 0.08 * he
    if "transform_bound" in name:
        return 0.0, math.sqrt(3.0 / fan_in)
    if "predictor" in name:
        return 0.0, 0.5 * he
    return 0.0, he


def build(meta):
    return {k: torch.from_numpy(v) for k, v in hashed_weights.conditioned(keys(), rule, meta).items()}


def preprocess(pixels, min_size=MIN_SIZE, max_size=MAX_SIZE):
    """detectron2 v0.1: ResizeShortestEdge (PIL bilinear on uint8, int(x + 0.5) sizes), BGR, minus mean, pad to 32."""
    h, w = pixels.shape[:2]
    scale = min_size / min(h, w)
    new_h, new_w = (min_size, scale * w) if h < w else (scale * h, min_size)
    if max(new_h, new_w) > max_size:
        scale = max_size / max(new_h, new_w)
        new_h, new_w = new_h * scale, new_w * scale
    new_h, new_w = int(new_h + 0.5), int(new_w + 0.5)
    resized = np.asarray(Image.fromarray(pixels).resize((new_w, new_h), Image.BILINEAR))[:, :, ::-1]
    x = torch.as_tensor(np.ascontiguousarray(resized.transpose(2, 0, 1))).float()
    x = x - torch.tensor(PIXEL_MEAN_BGR).view(3, 1, 1)
    padded = torch.zeros(1, 3, -(-new_h // 32) * 32, -(-new_w // 32) * 32)
    padded[0, :, :new_h, :new_w] = x
    return padded, (new_h, new_w)


def frozen_conv(w, name, x, stride=1, padding=0, relu=True):
    x = F.conv2d(x, w[name + ".weight"], None, stride, padding)
    n = name + ".norm."
    scale = w[n + "weight"] * (w[n + "running_var"] + FROZEN_BN_EPS).rsqrt()
    x = x * scale.view(1, -1, 1, 1) + (w[n + "bias"] - w[n + "running_mean"] * scale).view(1, -1, 1, 1)
    return F.relu(x) if relu else x


def resnet(w, x, stage_blocks=STAGE_BLOCKS, conv2=None):
    """res3, res4, res5 of detectron2's ResNet with STRIDE_IN_1X1 (the stride on each stage's first 1x1 conv).
    conv2(prefix, y), when given, replaces a block's 3x3 conv + FrozenBN (a deformable one for some blocks)."""
    b = "backbone.bottom_up."
    x = F.max_pool2d(frozen_conv(w, b + "stem.conv1", x, 2, 3), 3, 2, 1)
    stages = []
    for s, blocks in enumerate(stage_blocks):
        for i in range(blocks):
            p = "%sres%d.%d." % (b, s + 2, i)
            stride = 2 if i == 0 and s > 0 else 1
            shortcut = frozen_conv(w, p + "shortcut", x, stride, relu=False) if i == 0 else x
            y = frozen_conv(w, p + "conv1", x, stride)
            y = conv2(p, y) if conv2 else frozen_conv(w, p + "conv2", y, 1, 1)
            y = frozen_conv(w, p + "conv3", y, relu=False)
            x = F.relu(y + shortcut)
        stages.append(x)
    return stages[1:]


def fpn(w, res3to5):
    """detectron2's FPN top-down pass (nearest 2x upsampling, lateral sum, 3x3 output), P3-P5."""
    prev = None
    results = []
    for level, x in zip((5, 4, 3), reversed(res3to5)):
        lateral = F.conv2d(x, w["backbone.fpn_lateral%d.weight" % level], w["backbone.fpn_lateral%d.bias" % level])
        prev = lateral if prev is None else lateral + F.interpolate(prev, scale_factor=2, mode="nearest")
        results.insert(0, F.conv2d(prev, w["backbone.fpn_output%d.weight" % level], w["backbone.fpn_output%d.bias" % level], padding=1))
    return results


def detector_postprocess(boxes, probs, resized, original):
    """Scale to the original size (float32 boxes times Python-float ratios), clip, drop empty boxes, paste."""
    h, w = original
    boxes = boxes.clone()
    boxes[:, 0::2] *= w / resized[1]
    boxes[:, 1::2] *= h / resized[0]
    boxes[:, 0::2] = boxes[:, 0::2].clamp(min=0, max=w)
    boxes[:, 1::2] = boxes[:, 1::2].clamp(min=0, max=h)
    keep = ((boxes[:, 2] - boxes[:, 0]) > 0) & ((boxes[:, 3] - boxes[:, 1]) > 0)
    return keep, boxes[keep], paste_detectron2(probs[keep], boxes[keep], h, w)


def main():
    torch.set_num_threads(2)
    meta = {"min_size": str(MIN_SIZE), "max_size": str(MAX_SIZE), "channels": str(C), "channel_step": str(CHANNEL_STEP)}
    out = {}
    with torch.no_grad():
        w = build(meta)
        pixels = synthetic(IMAGE[0], IMAGE[1], 3)
        x, resized = preprocess(pixels)
        p3to5 = fpn(w, resnet(w, x))
        p6, p7 = heads.top_block(w, p3to5[2])
        pyramid = p3to5 + [p6, p7]
        for level, p in zip(range(3, 8), pyramid):
            out["p%d.sums" % level] = p[0].sum(dim=(1, 2))
            out["p%d.every%d" % (level, CHANNEL_STEP)] = p[:, ::CHANNEL_STEP]
        outs = heads.fcos_head(w, pyramid)
        for l, (logits, reg, ctr) in enumerate(outs):
            out["head.%d.logits" % l], out["head.%d.reg" % l], out["head.%d.ctr" % l] = logits, reg, ctr
        boxes, scores, labels = heads.postprocess(outs)
        out["det.boxes"], out["det.scores"], out["det.labels"] = boxes, scores, labels
        pooled, levels = heads.pool(pyramid, boxes)
        probs = heads.bilayer(w, pooled)[0].sigmoid()[:, 0]
        out["mask.probs"] = probs[:MASK_TOP]
        keep, final_boxes, masks = detector_postprocess(boxes, probs, resized, IMAGE)
        out["final.keep"] = keep.nonzero().flatten()
        out["final.boxes"] = final_boxes
        out["final.masks.packed"] = np.packbits(masks.numpy().reshape(masks.shape[0], -1), axis=1)
    out["pixels"] = pixels
    out["input.size"] = np.array(resized, dtype=np.int32)
    print("input", tuple(x.shape), "resized", resized, "P3-P7 max |p|", [float(p.abs().max()) for p in pyramid])
    print("detections", scores.numel(), "distinct scores", len(set(scores.tolist())), "levels", levels.tolist())
    print("scores", [round(s, 4) for s in scores.tolist()], "labels", labels.tolist())
    print("mask prob mean", [round(float(p.mean()), 3) for p in probs], "min/max", float(probs.min()), float(probs.max()))
    print("mask pixels", masks.reshape(masks.shape[0], -1).sum(1).tolist())
    fixture_io.save(OUT, out, meta)
    print(OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
