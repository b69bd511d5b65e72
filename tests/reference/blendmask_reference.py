"""A PyTorch reimplementation of BlendMask inference (AdelaiDet commit 36721221, detectron2 commit 02b5c4e2), written
from the upstream code for NativeSeg's whole-model parity fixtures (make_blendmask_fixtures.py) and its torch timing
(build/bench-blendmask-torch.py). Run with /usr/bin/python3 (Debian's torch 1.13 / torchvision 0.14).

Weights are a plain dict under the released checkpoints' key names (specs/keys/keys_blendmask_*.txt). Each function
names the upstream file it follows; where the upstream detail is easy to get wrong, the comment says what it is.
`breaks` names deliberate departures from upstream, used to show that the parity test can tell them apart:
  "softmax_axis"       softmax over the last (width) axis of the attentions instead of over the bases,
  "align_corners"      the 14x14 -> 56x56 attention resize with align_corners=True,
  "dcn_mask_ignored"   modulated deformable convolutions without their mask (as DCN v1),
  "dcn_offset_ignored" deformable convolutions with zero offsets (used by the fixture script's own checks).
"""
import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms, deform_conv2d, roi_align

from make_bcnet_model_fixtures import detector_postprocess, fpn, frozen_conv, preprocess, resnet

BREAKS = ("softmax_axis", "align_corners", "dcn_mask_ignored", "dcn_offset_ignored")

# configs/BlendMask/{R_50_1x, R_101_dcni3_5x, 550_R_50_3x}.yaml over Base-BlendMask.yaml / Base-550.yaml and
# adet/config/defaults.py; only what inference reads.
CONFIGS = {
    "R_50_1x": dict(architecture="blendmask-r50-fpn", depth=50, deform_on_per_stage=(False,) * 4, deform_interval=1,
                    strides=(8, 16, 32, 64, 128), cls_convs=4, box_convs=4, share_convs=0, basis_convs=3,
                    min_size=800, max_size=1333),
    "R_101_dcni3_5x": dict(architecture="blendmask-r101-dcni3-fpn", depth=101,
                           deform_on_per_stage=(False, True, True, True), deform_interval=3,
                           strides=(8, 16, 32, 64, 128), cls_convs=4, box_convs=4, share_convs=0, basis_convs=3,
                           min_size=800, max_size=1333),
    "550_R_50_3x": dict(architecture="blendmask-550-r50-fpn", depth=50, deform_on_per_stage=(False,) * 4,
                        deform_interval=1, strides=(8, 16, 32, 64), cls_convs=0, box_convs=0, share_convs=3,
                        basis_convs=2, min_size=550, max_size=916),
}
STAGE_BLOCKS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3)}
NUM_CLASSES = 80
NUM_BASES, ATTN_SIZE, BOTTOM_RESOLUTION, BASES_SCALE = 4, 14, 56, 0.25
INFERENCE_TH, PRE_NMS_TOPK, NMS_TH, POST_NMS_TOPK = 0.05, 1000, 0.6, 100
BN_EPS = 1e-5


def deform_blocks(config):
    """(stage, block) pairs whose 3x3 conv is a modulated DCN: adet/modeling/backbone/resnet_interval.py
    make_stage_intervals puts DeformBottleneckBlock at every block i with i % DEFORM_INTERVAL == 0 of the stages
    DEFORM_ON_PER_STAGE enables (res2..res5); with an interval of 1 that is every block of those stages."""
    blocks = STAGE_BLOCKS[config["depth"]]
    return {(s + 2, i) for s, on in enumerate(config["deform_on_per_stage"]) if on
            for i in range(blocks[s]) if i % config["deform_interval"] == 0}


def modulated_deform_conv(w, prefix, x, breaks, observe=None):
    """detectron2 modeling/backbone/resnet.py DeformBottleneckBlock (deform_modulated): conv2_offset (3x3, bias) gives
    27 channels; torch.chunk(3) + cat(offset_x, offset_y) is just channels 0..17 as the offsets, interleaved (dy, dx)
    per tap, and 18..26 as the mask logits. ModulatedDeformConv (stride 1, padding 1, no bias; STRIDE_IN_1X1 keeps the
    stride in conv1) then its FrozenBN and ReLU. torchvision's deform_conv2d has the same offset layout and border
    rule as detectron2's CUDA kernel (specs/blendmask.md 5.3). observe(offset, mask), when given, sees both."""
    om = F.conv2d(x, w[prefix + "conv2_offset.weight"], w[prefix + "conv2_offset.bias"], padding=1)
    offset, mask = om[:, :18], om[:, 18:].sigmoid()
    if observe:
        observe(offset, mask)
    if "dcn_offset_ignored" in breaks:
        offset = torch.zeros_like(offset)
    if "dcn_mask_ignored" in breaks:
        mask = None
    y = deform_conv2d(x, offset, w[prefix + "conv2.weight"], None, padding=(1, 1), mask=mask)
    n = prefix + "conv2.norm."
    scale = w[n + "weight"] * (w[n + "running_var"] + BN_EPS).rsqrt()
    return F.relu(y * scale.view(1, -1, 1, 1) + (w[n + "bias"] - w[n + "running_mean"] * scale).view(1, -1, 1, 1))


def bottom_up(w, x, config, breaks, observe=None):
    """res3, res4, res5 of the ResNet (detectron2 resnet.py; FrozenBN, STRIDE_IN_1X1), with the deformable blocks."""
    deformable = deform_blocks(config)

    def conv2(prefix, y):
        parts = prefix.rstrip(".").split(".")
        if (int(parts[-2][3:]), int(parts[-1])) in deformable:
            return modulated_deform_conv(w, prefix, y, breaks, observe)
        return frozen_conv(w, prefix + "conv2", y, 1, 1)

    return resnet(w, x, STAGE_BLOCKS[config["depth"]], conv2)


def pyramid(w, x, config, breaks):
    """adet/modeling/backbone/fpn.py build_fcos_resnet_fpn_backbone: detectron2's FPN on res3..res5 (nearest x2
    top-down, sum), then LastLevelP6P7 (TOP_LEVELS 2) or LastLevelP6 (1) on P5, not C5: p6 = conv3x3 s2 (p5),
    p7 = conv3x3 s2 (relu(p6))."""
    levels = fpn(w, bottom_up(w, x, config, breaks))
    for level in range(6, 3 + len(config["strides"])):
        source = levels[-1] if level == 6 else F.relu(levels[-1])
        name = "backbone.top_block.p%d." % level
        levels.append(F.conv2d(source, w[name + "weight"], w[name + "bias"], stride=2, padding=1))
    return levels


def _tower(w, name, count, x):
    """An FCOS tower: count x [conv3x3 (bias), GroupNorm(32), ReLU] at Sequential indices 3i, 3i+1."""
    for i in range(count):
        p = "proposal_generator.fcos_head.%s." % name
        x = F.conv2d(x, w[p + "%d.weight" % (3 * i)], w[p + "%d.bias" % (3 * i)], padding=1)
        x = F.relu(F.group_norm(x, 32, w[p + "%d.weight" % (3 * i + 1)], w[p + "%d.bias" % (3 * i + 1)]))
    return x


def fcos_head(w, levels, config):
    """adet/modeling/fcos/fcos.py FCOSHead.forward (USE_SCALE False) with BlendMask's top_layer as top_module:
    per level, class logits from the cls tower; regression (ReLU, in strides), centre-ness logits and the 784
    attention channels all from the bbox tower."""
    h = "proposal_generator.fcos_head."
    outs = []
    for x in levels:
        x = _tower(w, "share_tower", config["share_convs"], x)
        cls = _tower(w, "cls_tower", config["cls_convs"], x)
        box = _tower(w, "bbox_tower", config["box_convs"], x)
        logits = F.conv2d(cls, w[h + "cls_logits.weight"], w[h + "cls_logits.bias"], padding=1)
        ctr = F.conv2d(box, w[h + "ctrness.weight"], w[h + "ctrness.bias"], padding=1)
        reg = F.relu(F.conv2d(box, w[h + "bbox_pred.weight"], w[h + "bbox_pred.bias"], padding=1))
        top = F.conv2d(box, w["top_layer.weight"], w["top_layer.bias"], padding=1)
        outs.append((logits, reg, ctr, top))
    return outs


def locations(h, w, stride):
    """adet/utils/comm.py compute_locations: (x, y) = (i * stride + stride // 2), row-major."""
    ys, xs = torch.meshgrid(torch.arange(0, h * stride, stride, dtype=torch.float32),
                            torch.arange(0, w * stride, stride, dtype=torch.float32), indexing="ij")
    return torch.stack((xs.reshape(-1), ys.reshape(-1)), dim=1) + stride // 2


def decode_level(logits, reg, ctr, top, stride):
    """adet/modeling/fcos/fcos_outputs.py forward_for_single_feature_map with THRESH_WITH_CTR (Base-BlendMask.yaml):
    candidates are (location, class) pairs whose sigmoid(cls) * sigmoid(ctr) > 0.05; the per-level top-1000 runs
    only when more pass; score = sqrt(cls * ctr); boxes are neither clipped nor size-filtered."""
    _, c, h, w = logits.shape
    cls = logits[0].permute(1, 2, 0).reshape(-1, c).sigmoid()
    r = reg[0].permute(1, 2, 0).reshape(-1, 4) * stride
    cen = ctr[0].permute(1, 2, 0).reshape(-1).sigmoid()
    t = top[0].permute(1, 2, 0).reshape(h * w, -1)
    cls = cls * cen[:, None]
    candidates = cls > INFERENCE_TH
    scores = cls[candidates]
    nz = candidates.nonzero()
    loc, klass = nz[:, 0], nz[:, 1]
    count = scores.numel()
    if count > PRE_NMS_TOPK:
        scores, keep = scores.topk(PRE_NMS_TOPK, sorted=False)
        loc, klass = loc[keep], klass[keep]
    p, r = locations(h, w, stride)[loc], r[loc]
    boxes = torch.stack([p[:, 0] - r[:, 0], p[:, 1] - r[:, 1], p[:, 0] + r[:, 2], p[:, 1] + r[:, 3]], dim=1)
    return boxes, torch.sqrt(scores), klass, t[loc], count


def select_over_all_levels(boxes, scores, classes):
    """fcos_outputs.py select_over_all_levels: class-aware NMS at 0.6 (adet/layers/ml_nms.py -> detectron2
    batched_nms -> torchvision), then, past 100, keep scores >= the kthvalue cut, which keeps ties. Returns the
    kept indices in NMS order (decreasing score) and how many NMS kept."""
    keep = batched_nms(boxes, scores, classes, NMS_TH)
    n = keep.numel()
    if n > POST_NMS_TOPK:
        cut, _ = torch.kthvalue(scores[keep], n - POST_NMS_TOPK + 1)
        keep = keep[scores[keep] >= cut.item()]
    return keep, n


def basis_module(w, levels, config):
    """adet/modeling/blendmask/basis_module.py ProtoNet: refine[i] = conv3x3 (no bias) -> BN -> ReLU on p3, p4, p5
    (conv_with_kaiming_uniform: conv, norm, activation in that order whatever its comment says), p4 and p5 resized
    bilinearly (align_corners False) onto p3 and summed; tower = NUM_CONVS conv blocks, x2 bilinear upsample, one
    conv block, conv1x1 (bias) to 4 bases with no activation. SyncBN is plain BatchNorm at inference."""
    def block(prefix, x):
        x = F.conv2d(x, w[prefix + "0.weight"], None, padding=1)
        n = prefix + "1."
        return F.relu(F.batch_norm(x, w[n + "running_mean"], w[n + "running_var"], w[n + "weight"], w[n + "bias"],
                                   False, 0.0, BN_EPS))

    b = "basis_module."
    x = block(b + "refine.0.", levels[0])
    for i in (1, 2):
        x = x + F.interpolate(block(b + "refine.%d." % i, levels[i]), x.shape[2:], mode="bilinear", align_corners=False)
    convs = config["basis_convs"]
    for i in range(convs):
        x = block(b + "tower.%d." % i, x)
    x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    x = block(b + "tower.%d." % (convs + 1), x)
    return F.conv2d(x, w[b + "tower.%d.weight" % (convs + 2)], w[b + "tower.%d.bias" % (convs + 2)])


def blender(bases, boxes, attentions, breaks):
    """adet/modeling/blendmask/blender.py: ROIPooler(56, scales (0.25,), sampling_ratio 1, ROIAlignV2) on the bases
    for the unclipped boxes (one level: torchvision roi_align, aligned=True; samples outside the map read 0), then
    merge_bases: attentions [N, 4, 14, 14] -> F.interpolate to 56x56 (TOP_INTERP "bilinear", align_corners False)
    -> softmax over the 4 bases -> sum(rois * softmax) -> sigmoid. Returns [N, 56, 56] probabilities."""
    n = boxes.shape[0]
    rois = roi_align(bases, torch.cat([boxes.new_zeros(n, 1), boxes], dim=1), BOTTOM_RESOLUTION, BASES_SCALE, 1,
                     aligned=True)
    coeffs = attentions.view(n, NUM_BASES, ATTN_SIZE, ATTN_SIZE)
    coeffs = F.interpolate(coeffs, (BOTTOM_RESOLUTION, BOTTOM_RESOLUTION), mode="bilinear",
                           align_corners="align_corners" in breaks)
    coeffs = coeffs.softmax(dim=3 if "softmax_axis" in breaks else 1)
    return (rois * coeffs).sum(dim=1).sigmoid()


def run(w, config, pixels, breaks=()):
    """BlendMask.forward at inference (adet/modeling/blendmask/blendmask.py) on one RGB uint8 image [H, W, 3]:
    detectron2 preprocessing (PIL-bilinear ResizeShortestEdge, BGR, minus the mean, std 1, pad to 32), backbone,
    basis module, FCOS proposals with their attentions, blender, then detectron2's detector_postprocess (scale to the
    original size, clip, drop empty boxes, paste with grid_sample at >= 0.5). Returns the final detections and the
    intermediate values the fixtures keep."""
    unknown = set(breaks) - set(BREAKS)
    if unknown:
        raise ValueError("unknown breaks %s (known: %s)" % (sorted(unknown), ", ".join(BREAKS)))
    x, resized = preprocess(pixels, config["min_size"], config["max_size"])
    x = x.to(w["top_layer.weight"].dtype)
    levels = pyramid(w, x, config, breaks)
    bases = basis_module(w, levels[:3], config)
    per_level = [decode_level(*out, stride) for out, stride in zip(fcos_head(w, levels, config), config["strides"])]
    boxes, scores, classes, attentions = (torch.cat([p[i] for p in per_level]) for i in range(4))
    keep, nms_count = select_over_all_levels(boxes, scores, classes)
    probs = blender(bases, boxes[keep], attentions[keep], breaks)
    kept, final_boxes, masks = detector_postprocess(boxes[keep], probs, resized, pixels.shape[:2])
    return dict(input=x, resized=resized, levels=levels, bases=bases, candidates=[p[4] for p in per_level],
                nms_count=nms_count, all_boxes=boxes, all_scores=scores, all_classes=classes, keep=keep,
                attentions=attentions[keep], probs=probs, boxes=final_boxes, scores=scores[keep][kept],
                classes=classes[keep][kept], masks=masks, kept=kept)
