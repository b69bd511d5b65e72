"""Writes tests/reference/fixtures/maskrcnn_torchvision_coco_image.safetensors: torchvision 0.14's
maskrcnn_resnet50_fpn at its default 800/1333 transform on a real 640x480 COCO image from ../shared/data.

Run with /usr/bin/python3 [shared data folder, default ../shared/data beside the checkout] (Debian's torch and PIL, which decodes JPEG with libjpeg-turbo as the engine does).
The image is not copied: the fixture names it and stores the SHA-256 of its decoded RGB pixels, so the C# test
reads it from ../shared/data and knows it decoded the same pixels. The weights are make_maskrcnn_image_fixtures'
hashed ones (rebuilt in C# from the metadata) with the mask predictor's bound divided by MASK_DAMPING: random
weights push mask logits far enough that sigmoid gives exactly 1.0, and a sample half-way between 1.0 and the
paste's zero padding is a tie at 0.5 that any rounding flips. The top detections include boxes clipped at the
left, right and top edges, whose masks are pasted against the padding. Masks are stored as RLE.
"""
import hashlib
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.functional import to_tensor

import fixture_io
from make_maskrcnn_image_fixtures import hashed_model

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "data")

IMAGE = "coco_mini_val2017/val2017/000000073326.jpg"
MIN_SIZE, MAX_SIZE = 800, 1333
MASK_DAMPING = 2.0
TOP = 50


def main():
    torch.set_num_threads(2)
    shared = sys.argv[1] if len(sys.argv) > 1 else SHARED
    pixels = np.array(Image.open(os.path.join(shared, IMAGE)).convert("RGB"))
    meta = {"min_size": str(MIN_SIZE), "max_size": str(MAX_SIZE), "image": IMAGE,
            "image.sha256": hashlib.sha256(pixels.tobytes()).hexdigest()}
    model = hashed_model(meta, MIN_SIZE, MAX_SIZE, MASK_DAMPING)
    with torch.no_grad():
        det = model([to_tensor(pixels)])[0]
    probs = det["masks"][:TOP, 0]
    margin = (probs - 0.5).abs().min().item()
    assert margin > 1.5e-7, f"a pasted probability is {margin} from 0.5, a tie that rounding alone decides"
    out = {"boxes": det["boxes"][:TOP], "scores": det["scores"][:TOP], "labels": det["labels"][:TOP]}
    out.update(fixture_io.rle_masks("masks", (probs > 0.5).numpy()))
    b = out["boxes"]
    edges = {"left": (b[:, 0] == 0).sum().item(), "right": (b[:, 2] == pixels.shape[1]).sum().item(),
             "top": (b[:, 1] == 0).sum().item(), "bottom": (b[:, 3] == pixels.shape[0]).sum().item()}
    print(IMAGE, pixels.shape, "detections", det["boxes"].shape[0], "boxes on each edge", edges,
          "closest probability to 0.5 is", margin, "away")
    fixture_io.save(os.path.join(OUT, "maskrcnn_torchvision_coco_image.safetensors"), out, meta)


if __name__ == "__main__":
    main()
