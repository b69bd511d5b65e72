#!/usr/bin/python3
"""Finetunes the shipped default model (weights/default.safetensors) on a new `nativeseg synth` set twice, with
the same recipe, data and thread count: once with `nativeseg train`, once with torchvision 0.14 (Debian's torch,
/usr/bin/python3), then evaluates both with `nativeseg eval` on a held-out split and prints mask AP, wall time,
process CPU seconds and peak resident memory side by side.

The recipe is torchvision's finetuning default: FrozenBatchNorm2d everywhere, conv1 and layer1 frozen
(trainable_backbone_layers=3), SGD momentum 0.9 and weight decay 1e-4, linear warmup from 0.001, a step decay,
2000/2000 RPN proposals and 512 sampled RoIs per image, random horizontal flips. Both runs are separate
processes, one after the other, so their timings do not share the machine.

  /usr/bin/python3 build/compare-finetune.py --work /tmp/finetune --iters 300 --threads 2
"""
import argparse
import json
import os
import random
import resource
import struct
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = ["dotnet", os.path.join(ROOT, "src", "Cli", "bin", "Release", "net10.0", "nativeseg.dll")]


def run(command, **kwargs):
    print("$", " ".join(command), flush=True)
    return subprocess.run(command, check=True, **kwargs)


def measure(command):
    """Runs `command` as this process's only child and prints its wall seconds, CPU seconds (user + system) and
    peak RSS (MiB) as the last line: RUSAGE_CHILDREN's peak is the largest child so far, so each measured run
    needs an interpreter of its own."""
    start = time.time()
    run(command)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"wall": time.time() - start, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}), flush=True)


def timed(command):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", "--work", "-", "--"] + command,
                         check=True, capture_output=True, text=True).stdout
    print(out, end="", flush=True)
    numbers = json.loads(out.strip().splitlines()[-1])
    return numbers["wall"], numbers["cpu"], numbers["rss"]


def mask_ap(model, data):
    out = subprocess.run(CLI + ["eval", "--annotations", os.path.join(data, "annotations.json"), "--images", data, "--model", model,
                                "--json", model + ".eval.json"], check=True, capture_output=True, text=True).stdout
    with open(model + ".eval.json") as f:
        return json.load(f)["stats"], out


def read_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F16": np.float16}
    meta = header.pop("__metadata__", {})
    tensors = {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype=dtypes[v["dtype"]]).reshape(v["shape"]).astype(np.float32)
               for k, v in header.items()}
    return tensors, meta


def torchvision_finetune(args):
    """Runs in its own process (--torch-run) so its CPU time and peak memory are its own."""
    import numpy as np
    import torch
    from PIL import Image
    from torchvision.models import resnet18
    from torchvision.models.detection import MaskRCNN
    from torchvision.models.detection.backbone_utils import BackboneWithFPN
    from torchvision.models.detection.faster_rcnn import TwoMLPHead, FastRCNNPredictor
    from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
    from torchvision.ops import FrozenBatchNorm2d
    from torchvision.ops.feature_pyramid_network import LastLevelMaxPool
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import default_model_torch as tdm

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    weights, meta = read_safetensors(os.path.join(ROOT, "weights", "default.safetensors"))
    config = json.loads(meta["config"])
    fpn, rep, mask_dim = config["fpn_channels"], config["box_representation"], config["mask_conv_dim"]
    body = resnet18(weights=None, norm_layer=lambda c: FrozenBatchNorm2d(c, eps=1e-5))
    backbone = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"}, [64, 128, 256, 512], fpn,
                               extra_blocks=LastLevelMaxPool())
    num_classes = config["num_classes"]
    model = MaskRCNN(backbone, num_classes=None, min_size=args.min_size, max_size=args.max_size,
                     box_head=TwoMLPHead(fpn * 7 * 7, rep), box_predictor=FastRCNNPredictor(rep, num_classes),
                     mask_head=MaskRCNNHeads(fpn, (mask_dim,) * 4, 1), mask_predictor=MaskRCNNPredictor(mask_dim, mask_dim, num_classes))
    state = {k: torch.from_numpy(v.copy()) for k, v in weights.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    for name, p in model.backbone.body.named_parameters():
        if not name.startswith(("layer2", "layer3", "layer4")):
            p.requires_grad_(False)
    items, _ = tdm.load_dataset(args.train)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=args.lr, momentum=0.9, weight_decay=1e-4)
    model.train()
    order = []
    for it in range(args.iters):
        warm = min(1.0, it / args.warmup) if args.warmup else 1.0
        factor = (0.001 * (1 - warm) + warm) * (0.1 ** sum(1 for s in args.steps if s <= it))
        for group in optimizer.param_groups:
            group["lr"] = args.lr * factor
        if len(order) < args.batch:
            order += random.sample(range(len(items)), len(items))
        images, targets = zip(*[tdm.to_sample(items[order.pop()], random.random() < 0.5) for _ in range(args.batch)])
        losses = model(list(images), list(targets))
        loss = sum(losses.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if (it + 1) % 25 == 0:
            print(f"torchvision iter {it + 1}/{args.iters} loss {loss.item():.4f}", flush=True)
    os.makedirs(args.torch_out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.torch_out, "model_final.pth"))
    with open(os.path.join(args.torch_out, "config.json"), "w") as f:
        json.dump(config, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--iters", type=int, default=300)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--warmup", type=int, default=50)
    p.add_argument("--steps", type=lambda s: [int(x) for x in s.split(",") if x], default=None)
    p.add_argument("--min-size", type=int, default=256)
    p.add_argument("--max-size", type=int, default=320)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--train-images", type=int, default=200)
    p.add_argument("--val-images", type=int, default=60)
    p.add_argument("--torch-run", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("command", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.add_argument("--train", help=argparse.SUPPRESS)
    p.add_argument("--torch-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.steps is None:
        args.steps = [int(args.iters * 0.75)]
    if args.torch_run:
        torchvision_finetune(args)
        return
    if args.measure:
        measure(args.command[1:] if args.command[:1] == ["--"] else args.command)
        return

    train, val = os.path.join(args.work, "train"), os.path.join(args.work, "val")
    # Other seed, other size and denser than the default model's data (seed 1, 256x256, 6 instances).
    for folder, n, seed in ((train, args.train_images, 11), (val, args.val_images, 12)):
        if not os.path.exists(os.path.join(folder, "annotations.json")):
            run(CLI + ["synth", "--out", folder, "--images", str(n), "--seed", str(seed), "--size", "320x256", "--classes", "6", "--instances", "10"])
    steps = ",".join(str(s) for s in args.steps)
    ours = os.path.join(args.work, "nativeseg")
    ns = timed(CLI + ["train", "--model", os.path.join(ROOT, "weights", "default.safetensors"), "--annotations", os.path.join(train, "annotations.json"),
                      "--images", train, "--out", ours, "--iters", str(args.iters), "--batch", str(args.batch), "--lr", str(args.lr),
                      "--warmup-iters", str(args.warmup), "--steps", steps, "--min-size", str(args.min_size), "--max-size", str(args.max_size),
                      "--seed", str(args.seed), "--threads", str(args.threads), "--checkpoint-every", str(args.iters)])
    theirs = os.path.join(args.work, "torchvision")
    tv = timed([sys.executable, os.path.abspath(__file__), "--torch-run", "--work", args.work, "--train", train, "--torch-out", theirs,
                "--iters", str(args.iters), "--batch", str(args.batch), "--lr", str(args.lr), "--warmup", str(args.warmup), "--steps", steps,
                "--min-size", str(args.min_size), "--max-size", str(args.max_size), "--threads", str(args.threads), "--seed", str(args.seed)])
    run(CLI + ["convert", os.path.join(theirs, "model_final.pth"), "--arch", "maskrcnn_resnet18_fpn_torchvision",
               "--config", os.path.join(theirs, "config.json"), "-o", os.path.join(theirs, "model_final.safetensors")])
    rows = []
    for name, model, (wall, cpu, rss) in (("nativeseg train", os.path.join(ours, "model_final.safetensors"), ns),
                                         ("torchvision 0.14", os.path.join(theirs, "model_final.safetensors"), tv)):
        numbers, _ = mask_ap(model, val)
        rows.append((name, numbers, wall, cpu, rss))
    print(f"\nfinetune of weights/default.safetensors: {args.iters} iterations x {args.batch} images, {args.threads} threads, "
          f"{args.train_images} train / {args.val_images} held-out images (synth seed 11/12, 320x256, 10 instances)")
    print("| trainer | mask AP | AP50 | AP75 | wall s | CPU s | peak RSS MiB |")
    print("|---|---|---|---|---|---|---|")
    for name, numbers, wall, cpu, rss in rows:
        print(f"| {name} | {numbers.get('AP', float('nan')):.3f} | {numbers.get('AP50', float('nan')):.3f} | {numbers.get('AP75', float('nan')):.3f} "
              f"| {wall:.0f} | {cpu:.0f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
