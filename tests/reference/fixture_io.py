"""Writes test fixtures as .safetensors files without the safetensors package (not in Debian).

The format: 8-byte little-endian header length, a JSON header mapping names to dtype, shape and
[begin, end) byte offsets into the data that follows, padded with spaces to a multiple of 8.
"""
import json
import struct

import numpy as np

_DTYPES = {
    np.dtype("float32"): "F32",
    np.dtype("float16"): "F16",
    np.dtype("int32"): "I32",
    np.dtype("int64"): "I64",
    np.dtype("uint8"): "U8",
}


def save(path, tensors, metadata=None):
    """tensors: dict name -> numpy array or torch tensor. Names are written in sorted order."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        value = tensors[name]
        if hasattr(value, "detach"):
            value = value.detach().cpu().contiguous().numpy()
        # asarray keeps 0-d arrays 0-d (ascontiguousarray would make them [1]).
        array = np.asarray(value, order="C")
        data = array.tobytes()
        header[name] = {
            "dtype": _DTYPES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def rle_masks(key, binary):
    """Binary masks [N, H, W] as COCO uncompressed RLE (column-major runs, the first of zeros), one mask's counts
    after another: {key}.rle.counts and each mask's number of counts in {key}.rle.lengths (int32)."""
    runs = []
    for mask in np.asarray(binary, dtype=np.uint8):
        flat = mask.T.reshape(-1)
        edges = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
        counts = np.diff(edges)
        runs.append(np.concatenate([[0], counts]) if flat[0] else counts)
    return {key + ".rle.lengths": np.array([len(r) for r in runs], dtype=np.int32),
            key + ".rle.counts": np.concatenate(runs).astype(np.int32)}
