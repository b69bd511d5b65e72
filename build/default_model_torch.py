"""The default model's architecture and data on the torchvision side: `build_model` is the torchvision 0.14 Mask R-CNN
that weights/default.safetensors is (ResNet-18 FPN, 64 FPN channels, a 128-wide box head, a 64-wide mask head,
BatchNorm as trained from scratch), and `load_dataset`/`to_sample` read a `nativeseg synth` set as torchvision's
training expects it. NativeSeg trains the model itself (`nativeseg init` + `nativeseg train`, README "Default
model"); the scripts that run the same model in torch import this module: build/compare-default-model.py,
build/compare-finetune.py, build/train-bilayer-head.py and tests/reference/make_default_model_keys.py.
"""
import json
import os

import numpy as np
import torch
from PIL import Image
from torchvision.models import resnet18
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import TwoMLPHead, FastRCNNPredictor
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool


def decode_rle(rle):
    """COCO compressed RLE string -> HxW uint8 mask (column-major runs, alternating 0s and 1s)."""
    h, w = rle["size"]
    text = rle["counts"].encode("ascii")
    counts, i = [], 0
    while i < len(text):
        value, shift, more = 0, 0, True
        while more:
            c = text[i] - 48
            value |= (c & 0x1F) << (5 * shift)
            more = bool(c & 0x20)
            i += 1
            shift += 1
            if not more and (c & 0x10):
                value |= -1 << (5 * shift)
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    flat = np.zeros(h * w, dtype=np.uint8)
    p = 0
    for j, n in enumerate(counts):
        if j % 2 == 1:
            flat[p:p + n] = 1
        p += n
    return flat.reshape(w, h).T


def load_dataset(folder):
    with open(os.path.join(folder, "annotations.json")) as f:
        coco = json.load(f)
    per_image = {im["id"]: [] for im in coco["images"]}
    for a in coco["annotations"]:
        per_image[a["image_id"]].append(a)
    items = [(os.path.join(folder, im["file_name"]), per_image[im["id"]]) for im in coco["images"] if per_image[im["id"]]]
    categories = sorted(coco["categories"], key=lambda c: c["id"])
    return items, categories


def to_sample(item, flip):
    path, annotations = item
    image = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0).permute(2, 0, 1)
    masks = torch.from_numpy(np.stack([decode_rle(a["segmentation"]) for a in annotations]))
    boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in annotations)], dtype=torch.float32)
    labels = torch.tensor([a["category_id"] for a in annotations], dtype=torch.int64)
    if flip:
        image, masks = image.flip(-1), masks.flip(-1)
        width = image.shape[-1]
        boxes = torch.stack([width - boxes[:, 2], boxes[:, 1], width - boxes[:, 0], boxes[:, 3]], dim=1)
    return image, {"boxes": boxes, "labels": labels, "masks": masks}


def build_model(num_classes, fpn_channels, representation, mask_dim, size):
    # No pretrained weights exist for this task, so BatchNorm trains normally; at inference it is the
    # eval-mode affine transform with eps 1e-5, which the converted config records.
    body = resnet18(weights=None, norm_layer=torch.nn.BatchNorm2d)
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
                               [64, 128, 256, 512], fpn_channels, extra_blocks=LastLevelMaxPool())
    box_head = TwoMLPHead(fpn_channels * 7 * 7, representation)
    mask_head = MaskRCNNHeads(fpn_channels, (mask_dim,) * 4, 1)
    return MaskRCNN(backbone, num_classes=None, min_size=size, max_size=size,
                    box_head=box_head, box_predictor=FastRCNNPredictor(representation, num_classes),
                    mask_head=mask_head, mask_predictor=MaskRCNNPredictor(mask_dim, mask_dim, num_classes),
                    # Fewer sampled proposals than the COCO defaults: about six objects per image need far
                    # fewer, and the CPU time per iteration is what limits how long this model trains.
                    rpn_pre_nms_top_n_train=1000, rpn_post_nms_top_n_train=500, box_batch_size_per_image=128)


def load_model(path):
    """A NativeSeg Mask R-CNN file (weights/default.safetensors, or `nativeseg train`'s model_final.safetensors) as the
    torchvision model in eval mode, and the config it carries. Its tensors have torchvision's state-dict names; float16
    files are widened to float32, as NativeSeg does at load."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
        data = f.read()
    metadata = header.pop("__metadata__")
    config = json.loads(metadata["config"])
    dtypes = {"F16": np.float16, "F32": np.float32}
    state = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=dtypes[entry["dtype"]]).reshape(entry["shape"])
        state[name] = torch.from_numpy(array.astype(np.float32))
    model = build_model(config["num_classes"], config["fpn_channels"], config["box_representation"],
                        config["mask_conv_dim"], config["min_size"])
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"{path}: not the default model's architecture (missing {missing[:3]}, unexpected {unexpected[:3]})")
    model.eval()
    return model, config
