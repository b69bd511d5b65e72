"""Writes tests/reference/fixtures/maskrcnn_tv_missing_mask_key.pth: the state dict of torchvision 0.14's
maskrcnn_resnet50_fpn with one mask-head tensor (roi_heads.mask_predictor.mask_fcn_logits.weight) deleted,
for the test that `nativeseg convert` names a missing key.

Run with /usr/bin/python3 (Debian's torch). Every tensor is a stride-0 view of one shared one-element
storage, so the file keeps every key and shape of the real checkpoint in a few kilobytes.
"""
import os

import torch
from torchvision.models.detection import maskrcnn_resnet50_fpn

HERE = os.path.dirname(os.path.abspath(__file__))
MISSING = "roi_heads.mask_predictor.mask_fcn_logits.weight"


def main():
    state = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None).state_dict()
    # num_batches_tracked is 0-d: a view of the one element itself.
    base = {torch.float32: torch.full((1,), 0.5), torch.int64: torch.zeros(1, dtype=torch.int64)}
    tiny = {name: base[t.dtype].expand(t.shape) if t.dim() else base[t.dtype][0] for name, t in state.items() if name != MISSING}
    assert len(tiny) == len(state) - 1
    torch.save(tiny, os.path.join(HERE, "fixtures", "maskrcnn_tv_missing_mask_key.pth"))


if __name__ == "__main__":
    main()
