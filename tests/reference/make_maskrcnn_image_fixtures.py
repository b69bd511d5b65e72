"""Writes tests/reference/fixtures/maskrcnn_torchvision_images.safetensors: torchvision 0.14's
maskrcnn_resnet50_fpn run end to end (normalise, resize, backbone, RPN, heads, mask paste) on two small images.

Run with /usr/bin/python3 (Debian's torch). Every parameter and BatchNorm buffer is a hashed_weights tensor
(the rules of build/bench-maskrcnn-torch.py, with a narrower class layer so no two scores tie at 1.0); the metadata
stores each tensor's shape, bound and offset (value = offset + uniform) so the C# test rebuilds the same model.
min_size/max_size are small so the CPU test stays fast: the first image is already at the model's input size
(160x224, the resize is the identity), the second (120x150) is scaled up by 4/3.
"""
import os

import numpy as np
import torch
import torchvision
from torchvision.transforms.functional import to_tensor

import fixture_io
import hashed_weights
from make_maskrcnn_fixtures import bound_for

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

MIN_SIZE, MAX_SIZE = 160, 224
IMAGES = {"exact": (160, 224), "resized": (120, 150)}
TOP = 50
CLS_DAMPING = 8.0


def rule(name, shape, mask_damping=1.0):
    """(offset, bound) of a tensor, as build/bench-maskrcnn-torch.py's hashed_model() fills it but for cls_score
    (and mask_fcn_logits when mask_damping is not 1)."""
    # BatchNorm near the identity but not equal to it, so the folded scale and shift matter; each block's
    # last one scaled down so the residual sums, and the FPN features, stay O(1).
    if name.endswith("running_var"):
        return 1.0, 0.5
    if name.endswith("running_mean"):
        return 0.0, 0.1
    if name.endswith(("bn3.weight", "downsample.1.weight")):
        return 0.25, 0.05
    if len(shape) == 1 and not name.startswith(("rpn.", "roi_heads.", "backbone.fpn.")):
        return (1.0 if name.endswith("weight") else 0.0), 0.2
    if "cls_score" in name:
        # A whole backbone's features are larger than the heads fixture's O(1) ones, and with its bound the
        # class scores saturate at exactly 1.0: ties whose order after NMS neither side defines.
        return 0.0, bound_for(name, shape) / CLS_DAMPING
    if "mask_fcn_logits" in name and mask_damping != 1.0:
        return 0.0, bound_for(name, shape) / mask_damping
    return 0.0, bound_for(name, shape)


def hashed_model(meta, min_size=MIN_SIZE, max_size=MAX_SIZE, mask_damping=1.0):
    model = torchvision.models.detection.maskrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, min_size=min_size, max_size=max_size).eval()
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                continue
            shape = tuple(t.shape)
            offset, bound = rule(name, shape, mask_damping)
            value = hashed_weights.uniform(name, shape, bound)
            if offset:
                value = np.float32(offset) + value
                meta["offset." + name] = repr(offset)
            t.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32)))
            meta["shape." + name] = ",".join(map(str, shape))
            meta["bound." + name] = repr(bound)
    # Random weights give low class scores: keep every detection, as the C# side does with score_thresh 0.
    model.roi_heads.score_thresh = 0.0
    return model


def synthetic(h, w, seed):
    """A textured RGB image: gradients, a few filled shapes and noise, so proposals and scores vary."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    image = np.stack([x / w * 200, y / h * 200, 128 + 100 * np.sin(x / 7.0) * np.cos(y / 11.0)], axis=2)
    for _ in range(6):
        y0, x0 = rng.integers(0, h - 20), rng.integers(0, w - 20)
        hh, ww = rng.integers(15, h // 2), rng.integers(15, w // 2)
        image[y0:y0 + hh, x0:x0 + ww] = rng.integers(0, 256, 3)
    image += rng.normal(0, 12, image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def main():
    torch.set_num_threads(1)
    meta = {"min_size": str(MIN_SIZE), "max_size": str(MAX_SIZE), "images": ",".join(IMAGES)}
    model = hashed_model(meta)
    out = {}
    for seed, (key, (h, w)) in enumerate(IMAGES.items()):
        pixels = synthetic(h, w, seed)
        with torch.no_grad():
            det = model([to_tensor(pixels)])[0]
        masks = (det["masks"][:TOP, 0] > 0.5).numpy()
        out[key + ".pixels"] = pixels
        out[key + ".boxes"] = det["boxes"][:TOP]
        out[key + ".scores"] = det["scores"][:TOP]
        out[key + ".labels"] = det["labels"][:TOP]
        out[key + ".masks.packed"] = np.packbits(masks.reshape(masks.shape[0], -1), axis=1)
        print(key, pixels.shape, "detections", det["boxes"].shape[0], "scores", det["scores"][:5].tolist(),
              "labels", det["labels"][:10].tolist(), "mask pixels", masks.reshape(masks.shape[0], -1).sum(1)[:10])
    fixture_io.save(os.path.join(OUT, "maskrcnn_torchvision_images.safetensors"), out, meta)


if __name__ == "__main__":
    main()
