#!/usr/bin/python3
"""Trains the default model: a small torchvision Mask R-CNN (ResNet-18 FPN, narrow heads) on CPU on a
`nativeseg synth` dataset, until NativeSeg can finetune on its own.

Run with the Debian torch (/usr/bin/python3); the shipped model came from
  nice -n 10 /usr/bin/python3 build/train-default-model.py --data /tmp/synth-train --out /tmp/default-train \
      --iters 3000 --minutes 40 --batch 2 --save-every 25 --threads 1
on `nativeseg synth --out /tmp/synth-train --images 3000 --seed 1 --size 256x256 --classes 6 --instances 6`.
One thread: on a machine shared with other jobs, two OpenMP threads spend most of their time waiting for
each other (measured 25-65 s per iteration against 1.7-3 s with one).
The default sizes (FPN 64, box head 128, mask head 64) keep the float16 file under 25 MB: the ResNet-18
body alone is 11.2 M parameters of the 12.5 M that allows.
Checkpoints (model_NNNNNN.pth and model_final.pth, plain state dicts) are written every --save-every
iterations so a stopped run still leaves a usable model; losses go to stdout and OUT/losses.csv.
With --minutes, training ends at whichever comes first, --iters or the time budget, and the learning rate
decays along the larger of the two fractions done: on a shared machine an iteration takes anywhere from 1.5
to 25 s, so a fixed iteration count either overruns the time available or stops with the rate still high.
Convert the result with `nativeseg convert --arch maskrcnn_resnet18_fpn_torchvision --config OUT/config.json`.
"""
import argparse
import json
import os
import random
import time

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


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--iters", type=int, default=3000)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.02)
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--fpn-channels", type=int, default=64)
    p.add_argument("--representation", type=int, default=128)
    p.add_argument("--mask-dim", type=int, default=64)
    p.add_argument("--save-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--minutes", type=float, default=0, help="wall-clock budget (0: none)")
    p.add_argument("--time-iters", type=int, default=0, help="only time this many iterations and exit")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    items, categories = load_dataset(args.data)
    num_classes = len(categories) + 1
    model = build_model(num_classes, args.fpn_channels, args.representation, args.mask_dim, args.size)
    config = {
        "num_classes": num_classes, "class_names": [c["name"] for c in categories],
        "category_ids": [c["id"] for c in categories], "fpn_channels": args.fpn_channels,
        "box_representation": args.representation, "mask_conv_dim": args.mask_dim,
        "min_size": args.size, "max_size": args.size, "norm_eps": 1e-5,
        "image_mean": model.transform.image_mean, "image_std": model.transform.image_std,
    }
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)

    params = [q for q in model.parameters() if q.requires_grad]
    optimizer = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=1e-4)
    # Linear warm-up (from scratch, BN statistics and the RPN are unstable early) over 5% of the run at most.
    schedule = TimeBudgetSchedule(optimizer, args.lr, args.iters, args.minutes, warm_fraction=0.05)
    start = schedule.start

    log = open(os.path.join(args.out, "losses.csv"), "a")
    model.train()
    order = []
    total_iters = args.time_iters or args.iters
    it = 0
    while it < total_iters and (args.time_iters or schedule.progress(it) < 1):
        schedule.step(it)
        if len(order) < args.batch:
            order += random.sample(range(len(items)), len(items))
        batch = [to_sample(items[order.pop()], random.random() < 0.5) for _ in range(args.batch)]
        images, targets = zip(*batch)
        losses = model(list(images), list(targets))
        loss = sum(losses.values())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        optimizer.step()
        elapsed = time.time() - start
        parts = " ".join(f"{k}={v.item():.4f}" for k, v in losses.items())
        line = f"{it + 1},{elapsed:.1f},{loss.item():.4f}," + ",".join(f"{v.item():.4f}" for v in losses.values())
        log.write(line + "\n")
        log.flush()
        if (it + 1) % 10 == 0 or args.time_iters:
            print(f"iter {it + 1}/{total_iters} {elapsed / (it + 1):.2f} s/it lr={optimizer.param_groups[0]['lr']:.5f} loss={loss.item():.4f} {parts}", flush=True)
        it += 1
        if not args.time_iters and it % args.save_every == 0:
            save(model, args.out, f"model_{it:06d}.pth")
    if not args.time_iters:
        save(model, args.out, "model_final.pth")
    print(f"done: {it} iterations in {time.time() - start:.0f} s", flush=True)


class TimeBudgetSchedule:
    """The learning rate of a run that ends at --iters or --minutes, whichever comes first: linear warm-up over
    the first iterations or `warm_fraction` of the run, whichever ends first, then cosine decay along the
    larger of the two fractions done (an iteration's time varies tenfold on a shared machine)."""

    def __init__(self, optimizer, lr, iters, minutes, warm_fraction):
        self.optimizer, self.lr, self.iters, self.minutes, self.warm_fraction = optimizer, lr, iters, minutes, warm_fraction
        self.warmup = max(1, min(50, iters // 10))
        self.start = time.time()

    def progress(self, it):
        done = it / self.iters
        return max(done, (time.time() - self.start) / (60 * self.minutes)) if self.minutes else done

    def step(self, it):
        p = self.progress(it)
        warm = min(1.0, max(it / self.warmup, p / self.warm_fraction))
        factor = 0.001 + (1 - 0.001) * warm if warm < 1 else 0.5 * (1 + np.cos(np.pi * min(1.0, p)))
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr * factor


def save(model, folder, name):
    # Written aside and renamed, so a run stopped mid-save never leaves a truncated checkpoint.
    torch.save(model.state_dict(), os.path.join(folder, name + ".tmp"))
    os.replace(os.path.join(folder, name + ".tmp"), os.path.join(folder, name))


if __name__ == "__main__":
    main()
