"""Writes the state-dict key list of the default model's architecture (build/default_model_torch.py's
build_model with its default sizes and 6 synthetic categories), one "name shape" line per tensor, for the
test of the key check `nativeseg convert --arch maskrcnn_resnet18_fpn_torchvision --config` runs.

Run from the repository root with Debian's torch: /usr/bin/python3 tests/reference/make_default_model_keys.py
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "keys_maskrcnn_resnet18_fpn.txt")


def main():
    sys.path.insert(0, os.path.join(HERE, "..", "..", "build"))
    import default_model_torch
    model = default_model_torch.build_model(num_classes=7, fpn_channels=64, representation=128, mask_dim=64, size=256)
    with open(OUT, "w") as f:
        for name, t in model.state_dict().items():
            f.write(f"{name} {','.join(str(d) for d in t.shape)}\n")
    print(OUT, len(model.state_dict()), "tensors")


if __name__ == "__main__":
    main()
