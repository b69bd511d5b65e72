"""BPR (tinyalpha/BPR a615828, the tools path: split_patches.py -> test_float.py -> merge_patches.py) reimplemented
in numpy and torch 1.13 as the engine's reference. Written from the upstream code; see ../shared/specs/bpr.md.

- Boundary: the 3x3 box sum c of the binary mask with zero padding; score min(|c - 9|, |c|) / 4.5.
- Proposals: every non-zero score pixel is the centre of a patch x patch box; greedy NMS as mmcv 1.1.6's CPU nms
  (a box is suppressed when IoU >= threshold with a kept box), boxes sorted by score descending with ties in
  row-major order (upstream's sort is unstable; the spec's errata fix this order); _force_move_back clamps.
  An image no larger than a patch in either direction gets no patches.
- Network input: the integer crop of the uint8 RGB image resized to out x out bilinearly (half-pixel, OpenCV's
  INTER_LINEAR on uint8 rounds to uint8), normalised; the coarse mask resized nearest as (m - 0.5) / 0.5.
- HRNetRefine + FCNHead (mmseg 0.7 hrnet.py / fcn_head.py, BPR's hrnet_refine.py), logits resized bilinearly to the
  input size, then to the patch size (whole_inference with rescale), softmax, channel 1.
- Merge: per instance the mean of the covering patches' probabilities, > 0.5; the coarse mask elsewhere.
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float64)
STD = np.array([58.395, 57.12, 57.375], dtype=np.float64)

ARCHS = {
    # (bottlenecks in stage 1, [(modules, blocks per branch, widths) for stages 2..4], network input side)
    "hr18s": (2, [(1, 2, (18, 36)), (3, 2, (18, 36, 72)), (2, 2, (18, 36, 72, 144))], 128),
    "hr48": (4, [(1, 4, (48, 96)), (4, 4, (48, 96, 192)), (3, 4, (48, 96, 192, 384))], 256),
}


def boundary_score(mask):
    m = torch.from_numpy(np.asarray(mask, dtype=np.float32))[None, None]
    c = F.conv2d(m, torch.ones(1, 1, 3, 3), padding=1)[0, 0]
    return (torch.minimum((c - 9).abs(), c.abs()) / 4.5).numpy()


def propose(mask, patch, iou_thresh):
    """Kept patches of one mask as (x1, y1) top-left corners, in NMS order."""
    h, w = mask.shape
    if h <= patch or w <= patch:
        return []
    score = boundary_score(mask)
    ys, xs = np.nonzero(score)
    order = np.argsort(-score[ys, xs], kind="stable")
    half = patch // 2
    boxes = np.stack([xs - half, ys - half, xs + half, ys + half], 1).astype(np.float32)[order]
    area = np.float32(patch * patch)
    kept = []
    for box in boxes:
        if kept:
            k = np.array(kept, dtype=np.float32)
            iw = np.maximum(np.minimum(k[:, 2], box[2]) - np.maximum(k[:, 0], box[0]), np.float32(0))
            ih = np.maximum(np.minimum(k[:, 3], box[3]) - np.maximum(k[:, 1], box[1]), np.float32(0))
            inter = iw * ih
            if np.any(inter / (area + area - inter) >= np.float32(iou_thresh)):
                continue
        kept.append(box)
    out = []
    for x1, y1, x2, y2 in kept:
        x1, y1, x2, y2 = int(x1), int(y1), int(x2), int(y2)
        if x1 < 0:
            x1, x2 = 0, patch
        if y1 < 0:
            y1, y2 = 0, patch
        if x2 >= w:
            x1, x2 = w - 1 - patch, w - 1
        if y2 >= h:
            y1, y2 = h - 1 - patch, h - 1
        out.append((x1, y1))
    return out


def resize_uint8_bilinear(patch, out):
    """OpenCV INTER_LINEAR on uint8 for these ratios: the half-pixel bilinear value rounded half up."""
    t = torch.from_numpy(patch.astype(np.float64)).permute(2, 0, 1)[None]
    v = F.interpolate(t, size=(out, out), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)
    return torch.floor(v + 0.5).numpy()


def network_input(image, mask, x1, y1, patch, out):
    crop = image[y1:y1 + patch, x1:x1 + patch]
    img = (resize_uint8_bilinear(crop, out).astype(np.float32) - MEAN.astype(np.float32)) * (1.0 / STD).astype(np.float32)
    idx = np.floor(np.arange(out) * (patch / out)).astype(np.int64)
    m = mask[y1:y1 + patch, x1:x1 + patch][idx][:, idx].astype(np.float32)
    return np.concatenate([img.transpose(2, 0, 1), ((m - 0.5) / 0.5)[None]], 0)


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(c, c), nn.BatchNorm2d(c)
        self.conv2, self.bn2 = conv3x3(c, c), nn.BatchNorm2d(c)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + x)


class Bottleneck(nn.Module):
    def __init__(self, cin, planes):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes)
        self.conv2, self.bn2 = conv3x3(planes, planes), nn.BatchNorm2d(planes)
        self.conv3, self.bn3 = nn.Conv2d(planes, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, bias=False), nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


class HRModule(nn.Module):
    def __init__(self, blocks, widths):
        super().__init__()
        n = len(widths)
        self.branches = nn.ModuleList(nn.Sequential(*[BasicBlock(c) for _ in range(blocks)]) for c in widths)
        self.fuse_layers = nn.ModuleList()
        for i in range(n):
            row = nn.ModuleList()
            for j in range(n):
                if j > i:
                    row.append(nn.Sequential(nn.Conv2d(widths[j], widths[i], 1, bias=False), nn.BatchNorm2d(widths[i]),
                                             nn.Upsample(scale_factor=2 ** (j - i), mode="bilinear", align_corners=False)))
                elif j == i:
                    row.append(None)
                else:
                    steps = []
                    for k in range(i - j):
                        last = k == i - j - 1
                        cout = widths[i] if last else widths[j]
                        layers = [conv3x3(widths[j], cout, 2), nn.BatchNorm2d(cout)]
                        if not last:
                            layers.append(nn.ReLU())
                        steps.append(nn.Sequential(*layers))
                    row.append(nn.Sequential(*steps))
            self.fuse_layers.append(row)

    def forward(self, xs):
        xs = [b(x) for b, x in zip(self.branches, xs)]
        out = []
        for i, row in enumerate(self.fuse_layers):
            y = 0
            for j, x in enumerate(xs):
                if i == j:
                    y = y + x
                elif j > i:
                    y = y + F.interpolate(row[j](x), size=xs[i].shape[2:], mode="bilinear", align_corners=False)
                else:
                    y = y + row[j](x)
            out.append(F.relu(y))
        return out


def transition(previous, widths):
    layers = nn.ModuleList()
    for i, c in enumerate(widths):
        if i < len(previous):
            layers.append(None if previous[i] == c else nn.Sequential(conv3x3(previous[i], c), nn.BatchNorm2d(c), nn.ReLU()))
        else:
            layers.append(nn.Sequential(nn.Sequential(conv3x3(previous[-1], c, 2), nn.BatchNorm2d(c), nn.ReLU())))
    return layers


class HRNetRefine(nn.Module):
    def __init__(self, arch):
        super().__init__()
        bottlenecks, stages, _ = ARCHS[arch]
        self.conv1, self.bn1 = conv3x3(3, 64, 2), nn.BatchNorm2d(64)
        self.conv2, self.bn2 = conv3x3(64, 64, 2), nn.BatchNorm2d(64)
        self.layer1 = nn.Sequential(*[Bottleneck(64 if b == 0 else 256, 64) for b in range(bottlenecks)])
        previous = [256]
        for s, (modules, blocks, widths) in enumerate(stages):
            setattr(self, f"transition{s + 1}", transition(previous, widths))
            setattr(self, f"stage{s + 2}", nn.Sequential(*[HRModule(blocks, widths) for _ in range(modules)]))
            previous = list(widths)
        self.conv_mask = conv3x3(1, 64, 2)

    def forward(self, x):
        y = self.conv1(x[:, :3]) + self.conv_mask(x[:, 3:])
        y = F.relu(self.bn1(y))
        y = F.relu(self.bn2(self.conv2(y)))
        ys = [self.layer1(y)]
        for s in range(3):
            trans = getattr(self, f"transition{s + 1}")
            xs = [ys[i] if t is None else t(ys[-1] if i >= len(ys) else ys[i]) for i, t in enumerate(trans)]
            ys = getattr(self, f"stage{s + 2}")(xs)
        return ys


class ConvModule(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class FCNHead(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv_seg = nn.Conv2d(channels, 2, 1)
        self.convs = nn.Sequential(ConvModule(channels))

    def forward(self, xs):
        size = xs[0].shape[2:]
        x = torch.cat([xs[0]] + [F.interpolate(x, size=size, mode="bilinear", align_corners=False) for x in xs[1:]], 1)
        return self.conv_seg(self.convs(x))


class Bpr(nn.Module):
    """EncoderDecoderRefine: state_dict keys as the released checkpoints' (backbone.*, decode_head.*)."""

    def __init__(self, arch):
        super().__init__()
        self.arch = arch
        self.backbone = HRNetRefine(arch)
        self.decode_head = FCNHead(sum(ARCHS[arch][1][-1][2]))

    def logits(self, x):
        """The head's logits, resized to the input size as encode_decode does."""
        out = self.decode_head(self.backbone(x))
        return F.interpolate(out, size=x.shape[2:], mode="bilinear", align_corners=False)

    def foreground(self, x, patch):
        """test_float.py: logits rescaled to the patch size, softmax, channel 1."""
        small = F.interpolate(self.logits(x), size=(patch, patch), mode="bilinear", align_corners=False)
        return F.softmax(small, 1)[:, 1]


def refine(model, image, masks, patch=64, iou_thresh=0.25, batch=64):
    """Refined masks [N, H, W] uint8, the patches (instance, x1, y1), and the foreground probabilities per patch."""
    out_size = ARCHS[model.arch][2]
    patches = [(i, x1, y1) for i, m in enumerate(masks) for x1, y1 in propose(m, patch, iou_thresh)]
    inputs = np.stack([network_input(image, masks[i], x1, y1, patch, out_size) for i, x1, y1 in patches]) if patches else \
        np.zeros((0, 4, out_size, out_size), np.float32)
    probs = []
    with torch.no_grad():
        for b in range(0, len(inputs), batch):
            probs.append(model.foreground(torch.from_numpy(inputs[b:b + batch]), patch).numpy())
    probs = np.concatenate(probs) if probs else np.zeros((0, patch, patch), np.float32)
    refined = np.array(masks, dtype=np.uint8, copy=True)
    for i in range(len(masks)):
        acc = np.zeros(masks[i].shape, np.float32)
        cnt = np.zeros(masks[i].shape, np.float32)
        for k, (inst, x1, y1) in enumerate(patches):
            if inst == i:
                acc[y1:y1 + patch, x1:x1 + patch] += probs[k]
                cnt[y1:y1 + patch, x1:x1 + patch] += 1
        s = cnt > 0
        refined[i][s] = (acc[s] / cnt[s]) > 0.5
    return refined, np.array(patches, dtype=np.int32).reshape(-1, 3), probs, inputs
