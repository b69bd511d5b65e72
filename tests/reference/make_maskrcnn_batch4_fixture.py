"""Writes tests/reference/fixtures/maskrcnn_torchvision_batch4.safetensors: torchvision 0.14's
maskrcnn_resnet50_fpn on a batch of four images of different shapes, and on each image alone.

Run with /usr/bin/python3 (Debian's torch). The model and hashed weights are make_maskrcnn_batch_fixture's, with
smaller test-time sizes so the emulated device runs the whole batch in minutes: a 96-pixel short side (128 at most),
250 RPN candidates per level before NMS, 100 proposals after it per image and 20 detections. After resizing the images are 96x128, 128x96, 96x96 and
96x120; batch_images pads all four to 128x128, while alone each is padded only to its own size rounded up to 32
(96x128, 128x96, 96x96, 96x128), so every image of the batch sees zeros below or right of it that it does not
see alone, and its detections change. The fixture keeps the detections of both runs.
"""
import os

import torch

import fixture_io
from make_maskrcnn_batch_fixture import batch_and_alone
from make_maskrcnn_image_fixtures import hashed_model, synthetic

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

MIN_SIZE, MAX_SIZE = 96, 128
PRE_NMS, PROPOSALS, DETECTIONS = 250, 100, 20
IMAGES = {"wide": (96, 128), "tall": (128, 96), "square": (80, 80), "small": (60, 75)}


def main():
    torch.set_num_threads(1)
    meta = {"min_size": str(MIN_SIZE), "max_size": str(MAX_SIZE), "images": ",".join(IMAGES),
            "rpn_pre_nms_top_n_test": str(PRE_NMS), "rpn_post_nms_top_n_test": str(PROPOSALS), "detections_per_img": str(DETECTIONS)}
    model = hashed_model(meta, MIN_SIZE, MAX_SIZE)
    model.rpn._pre_nms_top_n["testing"] = PRE_NMS
    model.rpn._post_nms_top_n["testing"] = PROPOSALS
    model.roi_heads.detections_per_img = DETECTIONS
    pixels = {key: synthetic(h, w, seed + 20) for seed, (key, (h, w)) in enumerate(IMAGES.items())}
    fixture_io.save(os.path.join(OUT, "maskrcnn_torchvision_batch4.safetensors"), batch_and_alone(model, pixels), meta)


if __name__ == "__main__":
    main()
