"""Writes tests/reference/fixtures/bcnet_fcos.safetensors: a PyTorch reimplementation, from specs/bcnet.md, of
BCNet's FCOS detector after the FPN (P6/P7 top block, GroupNorm towers, per-level scales, centre-ness on the
box tower, sqrt(cls*ctr) scores, per-level threshold and top-k, class-aware NMS, top 100) and of its bilayer
mask head (occluder branch, non-local blocks, occludee branch, occludee mask) on RoIAlignV2 over P3-P7.

Run with /usr/bin/python3 (Debian's torch). Weights use BCNet's key layout. Tensors with two or more
dimensions and the FPN features are hashed_weights tensors (only name, shape and bound are stored, in the
metadata); the 1-D ones (biases, GroupNorm and BatchNorm parameters, scales) are stored as "w:NAME", since
they need offsets a uniform hash cannot give (positive variances, a focal-loss-like class prior).
The channel count is 64 instead of 256 to keep the fixture and the tests small; the code paths are the same.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms, roi_align

import fixture_io
import hashed_weights

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

C = 64
CLASSES = 80
PADDED = (128, 192)
STRIDES = [8, 16, 32, 64, 128]
INFERENCE_TH = 0.03
PRE_NMS_TOP_N = 1000
NMS_TH = 0.6
DETECTIONS = 100
MASK_DETECTIONS = 8
BN_EPS = 1e-4


def hashed(meta, name, shape, bound):
    meta["shape." + name] = ",".join(map(str, shape))
    meta["bound." + name] = repr(bound)
    return torch.from_numpy(hashed_weights.uniform(name, shape, bound))


def he(shape):
    return math.sqrt(6.0 / int(np.prod(shape[1:])))


def weights(meta, out):
    g = torch.Generator().manual_seed(11)
    w = {}

    def conv(name, cout, cin, k, bound=None, bias=True):
        shape = (cout, cin, k, k)
        w[name + ".weight"] = hashed(meta, name + ".weight", shape, bound or he(shape))
        if bias:
            w[name + ".bias"] = (torch.rand(cout, generator=g) - 0.5) * 0.2

    conv("backbone.top_block.p6", C, C, 3)
    conv("backbone.top_block.p7", C, C, 3)
    for tower in ("cls_tower", "bbox_tower"):
        for i in range(4):
            conv("head.%s.%d" % (tower, 3 * i), C, C, 3)
            w["head.%s.%d.weight" % (tower, 3 * i + 1)] = 0.8 + 0.4 * torch.rand(C, generator=g)
            w["head.%s.%d.bias" % (tower, 3 * i + 1)] = (torch.rand(C, generator=g) - 0.5) * 0.2
    conv("head.cls_logits", CLASSES, C, 3, bound=0.6 * he((CLASSES, C, 3, 3)))
    w["head.cls_logits.bias"] = -3.0 + (torch.rand(CLASSES, generator=g) - 0.5)
    conv("head.bbox_pred", 4, C, 3, bound=0.5 * he((4, C, 3, 3)))
    w["head.bbox_pred.bias"] = 1.0 + 0.2 * torch.rand(4, generator=g)
    conv("head.centerness", 1, C, 3, bound=0.5 * he((1, C, 3, 3)))
    for l in range(5):
        w["head.scales.%d.scale" % l] = torch.tensor([0.7 + 0.15 * l])

    m = "mask_head."
    for i in range(1, 5):
        conv(m + "mask_fcn%d" % i, C, C, 3)
        conv(m + "boundary_fcn%d" % i, C, C, 3)
    for name in ("deconv", "boundary_deconv_bo", "boundary_deconv", "bo_deconv"):
        shape = (C, C, 2, 2)
        w[m + name + ".weight"] = hashed(meta, m + name + ".weight", shape, math.sqrt(6.0 / (C * 4)))
        w[m + name + ".bias"] = (torch.rand(C, generator=g) - 0.5) * 0.2
    for suffix in ("_bo", ""):
        for t in ("query", "key", "value", "output"):
            conv(m + "%s_transform_bound%s" % (t, suffix), C, C, 1, bound=math.sqrt(3.0 / C), bias=False)
        bn = m + "blocker_bound" + suffix
        w[bn + ".weight"] = 0.5 + 0.5 * torch.rand(C, generator=g)
        w[bn + ".bias"] = (torch.rand(C, generator=g) - 0.5) * 0.2
        w[bn + ".running_mean"] = (torch.rand(C, generator=g) - 0.5) * 0.5
        w[bn + ".running_var"] = 0.5 + torch.rand(C, generator=g)
        w[bn + ".num_batches_tracked"] = torch.tensor(1000, dtype=torch.int64)
    for name in ("predictor", "predictor_bo", "boundary_predictor_bo", "boundary_predictor"):
        conv(m + name, 1, C, 1, bound=2.0 * he((1, C, 1, 1)))
    for name, t in w.items():
        if t.dim() <= 1:
            out["w:" + name] = t
    return w


def features(meta):
    feats = []
    for level, stride in zip((3, 4, 5), STRIDES):
        shape = (1, C, PADDED[0] // stride, PADDED[1] // stride)
        feats.append(hashed(meta, "feature.p%d" % level, shape, 1.0))
    return feats


def top_block(w, p5):
    # LastLevelP6P7 with in_feature "p5": P6 from P5, P7 from relu(P6).
    p6 = F.conv2d(p5, w["backbone.top_block.p6.weight"], w["backbone.top_block.p6.bias"], stride=2, padding=1)
    p7 = F.conv2d(F.relu(p6), w["backbone.top_block.p7.weight"], w["backbone.top_block.p7.bias"], stride=2, padding=1)
    return p6, p7


def tower(w, name, x):
    for i in range(4):
        x = F.conv2d(x, w["head.%s.%d.weight" % (name, 3 * i)], w["head.%s.%d.bias" % (name, 3 * i)], padding=1)
        x = F.relu(F.group_norm(x, 32, w["head.%s.%d.weight" % (name, 3 * i + 1)], w["head.%s.%d.bias" % (name, 3 * i + 1)]))
    return x


def fcos_head(w, feats):
    """Per level: class logits, regression in pixels (relu(scale * pred) * stride), centre-ness logits (box tower)."""
    outs = []
    for l, x in enumerate(feats):
        cls = tower(w, "cls_tower", x)
        box = tower(w, "bbox_tower", x)
        logits = F.conv2d(cls, w["head.cls_logits.weight"], w["head.cls_logits.bias"], padding=1)
        ctr = F.conv2d(box, w["head.centerness.weight"], w["head.centerness.bias"], padding=1)
        reg = F.conv2d(box, w["head.bbox_pred.weight"], w["head.bbox_pred.bias"], padding=1) * w["head.scales.%d.scale" % l]
        outs.append((logits, F.relu(reg) * STRIDES[l], ctr))
    return outs


def postprocess(outs):
    boxes_all, scores_all, classes_all = [], [], []
    for (logits, reg, ctr), stride in zip(outs, STRIDES):
        _, _, h, w = logits.shape
        cls = logits[0].permute(1, 2, 0).reshape(-1, CLASSES).sigmoid()
        regs = reg[0].permute(1, 2, 0).reshape(-1, 4)
        cen = ctr[0].permute(1, 2, 0).reshape(-1, 1).sigmoid()
        ys, xs = torch.meshgrid(torch.arange(0, h * stride, stride, dtype=torch.float32),
                                torch.arange(0, w * stride, stride, dtype=torch.float32), indexing="ij")
        locations = torch.stack((xs.reshape(-1), ys.reshape(-1)), dim=1) + stride // 2
        candidates = cls > INFERENCE_TH
        scores = (cls * cen)[candidates]
        nz = candidates.nonzero()
        loc, klass = nz[:, 0], nz[:, 1]
        if scores.numel() > PRE_NMS_TOP_N:
            scores, top = scores.topk(PRE_NMS_TOP_N, sorted=False)
            loc, klass = loc[top], klass[top]
        r, p = regs[loc], locations[loc]
        boxes_all.append(torch.stack([p[:, 0] - r[:, 0], p[:, 1] - r[:, 1], p[:, 0] + r[:, 2], p[:, 1] + r[:, 3]], dim=1))
        scores_all.append(torch.sqrt(scores))
        classes_all.append(klass)
    boxes, scores, classes = torch.cat(boxes_all), torch.cat(scores_all), torch.cat(classes_all)
    keep = batched_nms(boxes, scores, classes, NMS_TH)[:DETECTIONS]
    print("candidates", boxes.shape[0], "kept", keep.numel())
    return boxes[keep], scores[keep], classes[keep]


def pool(pyramid, boxes):
    """ROIAlignV2 (aligned, adaptive sampling) over P3-P7 with detectron2's level rule, canonical 224 at level 4."""
    sizes = torch.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
    levels = torch.clamp(torch.floor(4 + torch.log2(sizes / 224 + 1e-8)), min=3, max=7).to(torch.int64) - 3
    rois = torch.cat([torch.zeros(boxes.shape[0], 1), boxes], dim=1)
    out = torch.zeros(boxes.shape[0], C, 14, 14)
    for l in range(5):
        idx = torch.nonzero(levels == l).flatten()
        if idx.numel():
            out[idx] = roi_align(pyramid[l], rois[idx], 14, 1.0 / STRIDES[l], 0, aligned=True)
    return out, levels


def non_local(w, x, suffix):
    m = "mask_head."
    b, c, h, wd = x.shape
    q = F.conv2d(x, w[m + "query_transform_bound" + suffix + ".weight"]).view(b, c, -1).transpose(1, 2)
    k = F.conv2d(x, w[m + "key_transform_bound" + suffix + ".weight"]).view(b, c, -1)
    v = F.conv2d(x, w[m + "value_transform_bound" + suffix + ".weight"]).view(b, c, -1).transpose(1, 2)
    att = F.softmax(torch.bmm(q, k) * (1.0 / math.sqrt(c)), dim=-1)
    r = torch.bmm(att, v).transpose(1, 2).reshape(b, c, h, wd)
    o = F.conv2d(r, w[m + "output_transform_bound" + suffix + ".weight"])
    bn = m + "blocker_bound" + suffix
    o = F.batch_norm(o, w[bn + ".running_mean"], w[bn + ".running_var"], w[bn + ".weight"], w[bn + ".bias"], False, 0.0, BN_EPS)
    return x + o


def bilayer(w, x0):
    """Spec 1.3: occludee mask, occludee boundary, occluder mask, occluder boundary logits (the first is the final mask)."""
    m = "mask_head."

    def conv_relu(name, x):
        return F.relu(F.conv2d(x, w[m + name + ".weight"], w[m + name + ".bias"], padding=1))

    def output(deconv, predictor, x):
        up = F.relu(F.conv_transpose2d(x, w[m + deconv + ".weight"], w[m + deconv + ".bias"], stride=2))
        return F.conv2d(up, w[m + predictor + ".weight"], w[m + predictor + ".bias"])

    a = conv_relu("boundary_fcn2", conv_relu("boundary_fcn1", x0))
    a = non_local(w, a, "_bo")
    a = conv_relu("boundary_fcn4", conv_relu("boundary_fcn3", a))
    b = x0 + a
    b = conv_relu("mask_fcn2", conv_relu("mask_fcn1", b))
    b = non_local(w, b, "")
    b = conv_relu("mask_fcn4", conv_relu("mask_fcn3", b))
    return (output("deconv", "predictor", b), output("boundary_deconv", "boundary_predictor", b),
            output("bo_deconv", "predictor_bo", a), output("boundary_deconv_bo", "boundary_predictor_bo", a))


def main():
    torch.set_num_threads(2)
    meta = {"padded": "%d,%d" % PADDED, "channels": str(C), "inference_th": repr(INFERENCE_TH)}
    out = {}
    with torch.no_grad():
        w = weights(meta, out)
        feats = features(meta)
        p6, p7 = top_block(w, feats[2])
        pyramid = feats + [p6, p7]
        out["p6"], out["p7"] = p6, p7
        outs = fcos_head(w, pyramid)
        for l, (logits, reg, ctr) in enumerate(outs):
            out["head.%d.logits" % l], out["head.%d.reg" % l], out["head.%d.ctr" % l] = logits, reg, ctr
        boxes, scores, classes = postprocess(outs)
        out["det.boxes"], out["det.scores"], out["det.labels"] = boxes, scores, classes
        # The top detections plus large boxes (unclipped, as BCNet pools them) so that P4-P7 are pooled too.
        big = torch.tensor([[10.0, 5.0, 260.0, 240.0], [-100.0, -50.0, 420.0, 400.0],
                            [-300.0, -200.0, 700.0, 800.0], [-900.0, -800.0, 1100.0, 1300.0]])
        mask_boxes = torch.cat([boxes[:MASK_DETECTIONS], big])
        pooled, levels = pool(pyramid, mask_boxes)
        mask, boundary, occluder, occluder_boundary = bilayer(w, pooled)
        out["mask.boxes"], out["mask.levels"] = mask_boxes, levels
        out["mask.probs"] = mask.sigmoid()[:, 0]
        out["mask.boundary_probs"] = boundary.sigmoid()[:, 0]
        out["mask.occluder_probs"] = occluder.sigmoid()[:, 0]
        out["mask.occluder_boundary_probs"] = occluder_boundary.sigmoid()[:, 0]
    print("scores", scores[:5].tolist(), "labels", classes[:8].tolist(), "levels", levels.tolist())
    print("mask probs mean", out["mask.probs"].mean(1).mean(1).tolist())
    fixture_io.save(os.path.join(OUT, "bcnet_fcos.safetensors"), out, meta)


if __name__ == "__main__":
    main()
