"""Writes tests/reference/fixtures/maskrcnn_torchvision_batch.safetensors: torchvision 0.14's
maskrcnn_resnet50_fpn on a batch of two images of different shapes, and on each image alone.

Run with /usr/bin/python3 (Debian's torch). The model is make_maskrcnn_image_fixtures' (hashed weights, 160/224
sizes). GeneralizedRCNNTransform.batch_images pads every image of a batch with zeros to the batch's largest
height and width, each rounded up to a multiple of 32: the wide image (160x224 after resizing) gains 64 rows at
the bottom next to the tall one (200x160, padded to 224 rows), and the tall one 64 columns on the right. The
backbone's convolutions see that padding, so features near those edges, and the detections built on them, differ
from a run of the image alone. The fixture keeps the top detections of both runs, so a test can check that a
batch matches torchvision's batch and that the two runs really differ.
"""
import os

import numpy as np
import torch
from torchvision.ops import box_iou
from torchvision.transforms.functional import to_tensor

import fixture_io
from make_maskrcnn_image_fixtures import MAX_SIZE, MIN_SIZE, hashed_model, synthetic

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

IMAGES = {"wide": (160, 224), "tall": (150, 120)}
TOP = 50


def detections(out, key, det):
    masks = (det["masks"][:TOP, 0] > 0.5).numpy()
    out[key + ".boxes"] = det["boxes"][:TOP]
    out[key + ".scores"] = det["scores"][:TOP]
    out[key + ".labels"] = det["labels"][:TOP]
    out.update(fixture_io.rle_masks(key + ".masks", masks))


def matched(batch, alone):
    """The tests' parity criterion (DetectionMatching.cs), greedily in score order."""
    iou = box_iou(batch["boxes"][:TOP], alone["boxes"][:TOP])
    used, count = set(), 0
    for i in range(iou.shape[0]):
        candidates = [j for j in range(iou.shape[1]) if j not in used and batch["labels"][i] == alone["labels"][j]
                      and abs(batch["scores"][i] - alone["scores"][j]) <= 0.01 and iou[i, j] >= 0.98]
        if candidates:
            used.add(max(candidates, key=lambda j: iou[i, j]))
            count += 1
    return count


def batch_and_alone(model, pixels):
    """The fixture's tensors: each image's pixels and top detections in one batch of all, and run alone."""
    out = {}
    with torch.no_grad():
        batch = model([to_tensor(p) for p in pixels.values()])
        for key, det in zip(pixels, batch):
            out[key + ".pixels"] = pixels[key]
            detections(out, key + ".batch", det)
            alone = model([to_tensor(pixels[key])])[0]
            detections(out, key + ".alone", alone)
            print(key, pixels[key].shape, "of the top", min(TOP, len(det["scores"])), "in the batch,", matched(det, alone),
                  "have a match alone (same label, box IoU >= 0.98, scores within 0.01)")
    return out


def main():
    torch.set_num_threads(1)
    meta = {"min_size": str(MIN_SIZE), "max_size": str(MAX_SIZE), "images": ",".join(IMAGES)}
    model = hashed_model(meta)
    pixels = {key: synthetic(h, w, seed + 10) for seed, (key, (h, w)) in enumerate(IMAGES.items())}
    fixture_io.save(os.path.join(OUT, "maskrcnn_torchvision_batch.safetensors"), batch_and_alone(model, pixels), meta)


if __name__ == "__main__":
    main()
