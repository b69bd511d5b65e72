"""Writes tests/reference/fixtures/safetensors_basic.safetensors for the C# safetensors reader tests.

Run with /usr/bin/python3 (Debian numpy). Values are simple formulas so the C# test can recompute them.
"""
import os

import numpy as np

import fixture_io

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    out = os.path.join(HERE, "fixtures")
    os.makedirs(out, exist_ok=True)
    tensors = {
        "conv.weight": (np.arange(2 * 3 * 2 * 2, dtype=np.float32) * 0.25 - 1.5).reshape(2, 3, 2, 2),
        "half": np.array([0.5, -2.0, 65504.0], dtype=np.float16),
        "ids": np.array([[1, -2], [3, 1 << 40]], dtype=np.int64),
        "count": np.array(7, dtype=np.int64),
        "mask": np.array([0, 255, 17], dtype=np.uint8),
        "index": np.array([-5, 9], dtype=np.int32),
        "empty": np.zeros((0, 4), dtype=np.float32),
    }
    fixture_io.save(os.path.join(out, "safetensors_basic.safetensors"), tensors,
                    {"architecture": "test", "config": '{"a": 1}'})


if __name__ == "__main__":
    main()
