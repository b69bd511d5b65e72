"""Writes tests/reference/fixtures/postprocess_border.safetensors: each flavour's postprocessing at the default
800/1333 transform of a 640x480 image, for detections whose boxes are clipped at every image edge.

Run with /usr/bin/python3 (Debian's torch). The inputs are what a box and mask head hand over: boxes in the
resized image (torchvision resizes 480x640 to 800x1066, detectron2 to 800x1067), already clipped to it as both box
heads do, and the selected class's 28x28 mask probabilities. The outputs are
- torchvision: GeneralizedRCNNTransform.postprocess (resize_boxes with float32 ratios, then paste_masks_in_image);
- detectron2: detector_postprocess (Boxes.scale by Python-float ratios, clip to the output size, drop empty boxes,
  then paste_masks_in_image's grid_sample), written from specs/maskrcnn.md since detectron2 is not installed.
Masks are stored as COCO's uncompressed RLE (column-major run lengths, starting with zeros) to stay small.
Mask probabilities stay inside [0.05, 0.95] and high along the mask's border, so the edge strips interpolate
against the zero padding without a sample landing on 0.5: the script checks that no pasted value is within
MARGIN (between two and three float32 steps) of the threshold, so no pixel is a tie that rounding alone decides.
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models.detection.transform import GeneralizedRCNNTransform

import fixture_io
from make_detection_fixtures import paste_detectron2

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

ORIGINAL = (480, 640)
RESIZED = {"torchvision": (800, 1066), "detectron2": (800, 1067)}
SIDE = 28
MARGIN = 1.5e-7


def boxes_for(h, w):
    """Boxes touching each edge, each corner, the whole image, sub-pixel slivers on the edges, one interior box."""
    return torch.tensor([
        [0.0, 200.3, 120.3, 380.7],  # left
        [w - 95.6, 310.2, w, 450.9],  # right
        [400.4, 0.0, 530.8, 140.2],  # top
        [600.1, 650.3, 720.6, h],  # bottom
        [0.0, 0.0, 150.7, 110.2],  # top left
        [w - 200.3, 0.0, w, 90.6],  # top right
        [0.0, 700.4, 60.2, h],  # bottom left
        [w - 70.9, 730.1, w, h],  # bottom right
        [0.0, 0.0, w, h],  # the whole image
        [w - 0.7, 100.2, w, 300.4],  # a sliver on the right edge
        [0.0, 500.2, 0.3, 600.1],  # a sliver on the left edge
        [2.6, h - 1.4, 90.2, h],  # a sliver on the bottom edge
        [300.5, 300.25, 420.75, 500.5],  # interior
    ], dtype=torch.float32)


def masks_for(n, g):
    """Smooth probabilities in [0.05, 0.95]; every other mask has a border ring at 0.9."""
    coarse = torch.rand(n, 1, 5, 5, generator=g)
    masks = F.interpolate(coarse, size=(SIDE, SIDE), mode="bilinear", align_corners=False)[:, 0]
    masks = 0.05 + 0.9 * (masks - masks.amin(dim=(1, 2), keepdim=True)) / (
        masks.amax(dim=(1, 2), keepdim=True) - masks.amin(dim=(1, 2), keepdim=True))
    ring = torch.zeros(SIDE, SIDE, dtype=torch.bool)
    ring[:2, :] = ring[-2:, :] = ring[:, :2] = ring[:, -2:] = True
    masks[::2, ring] = 0.9
    return masks


def torchvision_postprocess(boxes, masks):
    transform = GeneralizedRCNNTransform(800, 1333, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).eval()
    result = [{"boxes": boxes.clone(), "masks": masks[:, None].clone()}]
    out = transform.postprocess(result, [RESIZED["torchvision"]], [ORIGINAL])[0]
    probs = out["masks"][:, 0]
    assert torch.equal(probs > 0.5 - MARGIN, probs > 0.5 + MARGIN), "a pasted probability is too close to 0.5"
    return out["boxes"], probs > 0.5


def detectron2_postprocess(boxes, masks):
    h, w = RESIZED["detectron2"]
    out = boxes.clone()
    out[:, 0::2] *= ORIGINAL[1] / w
    out[:, 1::2] *= ORIGINAL[0] / h
    out[:, 0::2] = out[:, 0::2].clamp(min=0, max=ORIGINAL[1])
    out[:, 1::2] = out[:, 1::2].clamp(min=0, max=ORIGINAL[0])
    keep = torch.nonzero((out[:, 2] - out[:, 0] > 0) & (out[:, 3] - out[:, 1] > 0)).flatten()
    out, masks = out[keep], masks[keep]
    low = paste_detectron2(masks, out, *ORIGINAL, threshold=0.5 - MARGIN)
    high = paste_detectron2(masks, out, *ORIGINAL, threshold=0.5 + MARGIN)
    assert torch.equal(low, high), "a pasted probability is too close to 0.5"
    return out, keep, paste_detectron2(masks, out, *ORIGINAL)


def main():
    g = torch.Generator().manual_seed(12)
    t = {"original": np.array(ORIGINAL, dtype=np.int32)}
    for flavour, (h, w) in RESIZED.items():
        boxes = boxes_for(h, w)
        masks = masks_for(boxes.shape[0], g)
        t[flavour + ".resized"] = np.array((h, w), dtype=np.int32)
        t[flavour + ".boxes"], t[flavour + ".masks"] = boxes, masks
        if flavour == "torchvision":
            out_boxes, binary = torchvision_postprocess(boxes, masks)
            keep = torch.arange(boxes.shape[0])
        else:
            out_boxes, keep, binary = detectron2_postprocess(boxes, masks)
        t[flavour + ".out.boxes"] = out_boxes
        t[flavour + ".out.kept"] = keep.to(torch.int32)
        t.update(fixture_io.rle_masks(flavour + ".out", binary))
        print(flavour, "kept", keep.tolist(), "mask pixels", binary.flatten(1).sum(1).tolist())
    fixture_io.save(os.path.join(OUT, "postprocess_border.safetensors"), t)


if __name__ == "__main__":
    main()
