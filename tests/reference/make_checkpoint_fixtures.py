"""Writes checkpoint fixtures for the C# checkpoint reader tests into tests/reference/fixtures/.

Run with /usr/bin/python3 (Debian torch 1.13, numpy). ckpt_expected.safetensors holds, under the same
names, the values every checkpoint below must load to (float64 arrays load as float32, bool as uint8).
"""
import collections
import os
import pickle

import numpy as np
import torch

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
# The malicious fixtures would create this file if anything executed them.
PWNED = "/tmp/nativeseg-checkpoint-pwned"


def state_dict():
    g = torch.Generator().manual_seed(0)
    base = torch.arange(12, dtype=torch.float32)
    sd = collections.OrderedDict()
    sd["backbone.conv1.weight"] = torch.randn(4, 3, 3, 3, generator=g)
    sd["backbone.bn1.running_mean"] = torch.randn(4, generator=g)
    sd["backbone.bn1.num_batches_tracked"] = torch.tensor(17, dtype=torch.int64)
    sd["head.half"] = torch.randn(2, 5, generator=g).half()
    sd["head.ids"] = torch.tensor([[1, -2, 3]], dtype=torch.int32)
    sd["head.mask"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["head.transposed"] = torch.randn(3, 4, generator=g).t()  # strides (1, 4)
    sd["head.sliced"] = torch.randn(4, 6, generator=g)[1:3, ::2]  # offset and step strides
    sd["shared.a"] = base[0:6].view(2, 3)  # both views share one storage
    sd["shared.b"] = base[4:12]
    sd["empty"] = torch.zeros(0, 3)
    return sd


def expected(sd):
    return {k: v.contiguous() for k, v in sd.items()}


class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + PWNED,))


class EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch " + PWNED + "')",))


def main():
    os.makedirs(OUT, exist_ok=True)
    sd = state_dict()
    fixture_io.save(os.path.join(OUT, "ckpt_expected.safetensors"), expected(sd))
    torch.save(sd, os.path.join(OUT, "ckpt_zip.pth"))
    torch.save(collections.OrderedDict(("module." + k, v) for k, v in sd.items()), os.path.join(OUT, "ckpt_module.pth"))
    torch.save({"state_dict": sd, "meta": {"epoch": 3, "CLASSES": ("a", "b"), "mmcv_version": "1.2.0"}},
               os.path.join(OUT, "ckpt_mmcv.pth"))

    arrays = {k: v.contiguous().numpy() for k, v in sd.items() if v.dtype != torch.float16}
    arrays["head.fortran"] = np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3))
    arrays["head.bigendian"] = np.arange(4, dtype=">f4")
    arrays["head.double"] = np.array([0.5, -1.25], dtype=np.float64)
    arrays["head.flag"] = np.array([True, False])
    fixture_io.save(os.path.join(OUT, "ckpt_pkl_expected.safetensors"), {
        **{k: v for k, v in arrays.items() if k not in ("head.double", "head.flag", "head.bigendian")},
        "head.fortran": np.ascontiguousarray(arrays["head.fortran"]),
        "head.bigendian": arrays["head.bigendian"].astype("<f4"),
        "head.double": arrays["head.double"].astype(np.float32),
        "head.flag": arrays["head.flag"].astype(np.uint8),
    })
    for protocol in (2, 4, 5):
        with open(os.path.join(OUT, f"ckpt_d2_p{protocol}.pkl"), "wb") as f:
            pickle.dump({"model": arrays, "__author__": "NativeSeg tests", "matching_heuristics": True}, f, protocol=protocol)

    torch.save({"weight": torch.ones(2), "bias": Evil()}, os.path.join(OUT, "evil_zip.pth"))
    with open(os.path.join(OUT, "evil_nested.pkl"), "wb") as f:
        pickle.dump({"model": {"w": np.ones(2, dtype=np.float32), "x": {"deep": [Evil()]}}, "__author__": "x"}, f, protocol=2)
    with open(os.path.join(OUT, "evil_eval.pkl"), "wb") as f:
        pickle.dump(EvalEvil(), f, protocol=4)


if __name__ == "__main__":
    main()
