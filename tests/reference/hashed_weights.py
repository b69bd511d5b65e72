"""Deterministic pseudo-random tensors that the C# tests recompute bit for bit (tests/NativeSeg.Tests/Models/HashedWeights.cs).

Full models are far too big to commit, so fixtures store each tensor's name, shape and bound instead:
element i of tensor `name` is a uniform value in [-bound, bound) from an integer hash of (i, FNV-1a(name)),
computed in uint32 arithmetic and converted through float64, so both languages agree exactly.
"""
import numpy as np

_MASK = np.uint64(0xFFFFFFFF)


def fnv1a32(name):
    h = 0x811C9DC5
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def uniform(name, shape, bound):
    n = int(np.prod(shape)) if len(shape) else 1
    h = (np.arange(n, dtype=np.uint64) * np.uint64(0x9E3779B1) + np.uint64(fnv1a32(name))) & _MASK
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x7FEB352D)) & _MASK
    h ^= h >> np.uint64(15)
    h = (h * np.uint64(0x846CA68B)) & _MASK
    h ^= h >> np.uint64(16)
    u = h.astype(np.float64) * (2.0 / 4294967296.0) - 1.0
    return (u * float(bound)).astype(np.float32).reshape(shape)


def conditioned(keys, rule, meta):
    """{name: float32 array} of offset + uniform(name, shape, bound) for each (name, shape) of keys, where
    rule(name, shape) gives (offset, bound). meta records each tensor's shape, bound and, when not 0, offset, from
    which the C# tests rebuild the same values (HashedWeights.LoadAllWithOffsets)."""
    out = {}
    for name, shape in keys:
        offset, bound = rule(name, shape)
        value = uniform(name, shape, bound)
        if offset:
            value = np.float32(offset) + value
            meta["offset." + name] = repr(offset)
        meta["shape." + name] = ",".join(map(str, shape))
        meta["bound." + name] = repr(bound)
        out[name] = np.ascontiguousarray(value, dtype=np.float32)
    return out
