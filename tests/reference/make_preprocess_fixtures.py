"""Writes the input-pipeline fixtures: Pillow 9.4 bilinear resizes and the three frameworks' preprocessing.

Run from the repository root with Debian's Python: /usr/bin/python3 tests/reference/make_preprocess_fixtures.py

Images come from a formula the C# test also evaluates (PreprocessFixtureTests.Pattern), so real-sized cases need
no committed input: pixel(y, x, c) = (3·x·x + 7·y + x·y + 85·c + 5·((x XOR y) AND 31)) AND 255 — smooth runs
broken by hard edges, which is what exposes rounding differences in a resampler.

preprocess_pillow.safetensors, per case: "<case>.y" the resized uint8 HWC image, or for large outputs
"<case>.rows" (every 25th row) plus "<case>.row_sums" (int64 sum of every row).
preprocess_pipeline.safetensors:
  tv_sizes: [n, 4] rows (h, w, out_h, out_w) from torchvision 0.14's GeneralizedRCNNTransform(800, 1333)
  tv_up / tv_down: GeneralizedRCNNTransform(min, max, ImageNet mean/std) outputs (min/max in metadata)
  mrcnn: maskrcnn-benchmark's test transforms (PIL resize, to_tensor, TO_BGR255, its PIXEL_MEAN), padded to 32
  d2_rows: detectron2's (PIL resize to 800x1067, BGR, minus MSRA mean, pad to 32) every 100th row of a 480x640 image
"""
import os

import numpy as np
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torchvision.models.detection.transform import GeneralizedRCNNTransform

from fixture_io import save

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")


def pattern(h, w, channels=3):
    y, x, c = np.meshgrid(np.arange(h), np.arange(w), np.arange(channels), indexing="ij")
    return ((3 * x * x + 7 * y + x * y + 85 * c + 5 * ((x ^ y) & 31)) & 255).astype(np.uint8)


def pil(array):
    return Image.fromarray(array[:, :, 0], mode="L") if array.shape[2] == 1 else Image.fromarray(array)


def resized(array, h, w):
    out = np.asarray(pil(array).resize((w, h), Image.BILINEAR))
    return out.reshape(h, w, -1)


def pillow_cases():
    t = {}
    for name, (ih, iw, oh, ow, ch) in {
        "up": (37, 53, 61, 90, 3),
        "down": (61, 90, 17, 23, 3),
        "horizontal_only": (40, 50, 40, 77, 3),
        "vertical_only": (40, 50, 13, 50, 3),
        "gray": (30, 40, 45, 61, 1),
        "same": (20, 30, 20, 30, 3),
        "extreme_down": (200, 300, 7, 11, 3),
    }.items():
        t[f"{name}.y"] = resized(pattern(ih, iw, ch), oh, ow)
    for name, (ih, iw, oh, ow) in {"coco_up": (480, 640, 800, 1067), "large_down": (1200, 1600, 800, 1067)}.items():
        out = resized(pattern(ih, iw), oh, ow)
        t[f"{name}.rows"] = out[::25]
        t[f"{name}.row_sums"] = out.reshape(oh, -1).sum(axis=1).astype(np.int64)
    save(os.path.join(FIXTURES, "preprocess_pillow.safetensors"), t)


def tv_transform(min_size, max_size):
    return GeneralizedRCNNTransform(min_size, max_size, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).eval()


def tv_image(h, w):
    return TF.to_tensor(pattern(h, w))  # /255 as float32, CHW


def pipeline_cases():
    t, meta = {}, {}
    sizes = [(480, 640), (375, 500), (427, 640), (640, 427), (500, 375), (333, 500), (612, 612), (100, 1000), (799, 1201), (1, 2)]
    tf = tv_transform(800, 1333)
    rows = []
    for h, w in sizes:
        images, _ = tf([torch.zeros(3, h, w)])
        oh, ow = images.image_sizes[0]
        rows.append((h, w, oh, ow))
    t["tv_sizes"] = np.array(rows, dtype=np.int32)

    for name, (h, w, mn, mx) in {"tv_up": (60, 80, 72, 120), "tv_down": (90, 120, 50, 100)}.items():
        images, _ = tv_transform(mn, mx)([tv_image(h, w)])
        t[f"{name}.x"] = images.tensors
        t[f"{name}.size"] = np.array(images.image_sizes[0], dtype=np.int32)
        meta[name] = f"{h},{w},{mn},{mx}"

    # maskrcnn-benchmark: Resize (its get_size) on the PIL image, ToTensor, Normalize(to_bgr255), to_image_list(32).
    h, w, mn, mx = 60, 80, 72, 120
    oh, ow = 72, 96  # get_size: 80/60·72 = 96 <= 120, so short side 72 and long int(72·80/60)
    image = TF.resize(Image.fromarray(pattern(h, w)), (oh, ow))
    x = TF.to_tensor(image)[[2, 1, 0]] * 255
    x = TF.normalize(x, mean=[102.9801, 115.9465, 122.7717], std=[1.0, 1.0, 1.0])
    padded = torch.zeros(1, 3, 96, 96)
    padded[0, :, :oh, :ow] = x
    t["mrcnn.x"] = padded
    meta["mrcnn"] = f"{h},{w},{mn},{mx}"

    # detectron2: ResizeTransform.apply_image on the BGR uint8 array, then (x - mean) / std, ImageList pad to 32.
    bgr = pattern(480, 640)[:, :, ::-1].copy()
    x = torch.as_tensor(np.ascontiguousarray(resized(bgr, 800, 1067).transpose(2, 0, 1))).float()
    x = (x - torch.tensor([103.530, 116.280, 123.675]).view(3, 1, 1)) / torch.tensor([1.0, 1.0, 1.0]).view(3, 1, 1)
    padded = torch.zeros(3, 800, 1088)
    padded[:, :800, :1067] = x
    t["d2_rows"] = padded[:, ::100]
    save(os.path.join(FIXTURES, "preprocess_pipeline.safetensors"), t, meta)


def main():
    pillow_cases()
    pipeline_cases()
    for name in ("preprocess_pillow", "preprocess_pipeline"):
        path = os.path.join(FIXTURES, name + ".safetensors")
        print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
