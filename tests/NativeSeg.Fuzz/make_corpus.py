"""Writes the seed corpus, corpus/<target>/, for the fuzz targets: small valid (and a few refused) inputs
of every kind the readers know, from which afl-fuzz mutates. Copies the small reader fixtures of
tests/reference/fixtures and writes the rest with the standard library and cjpeg (libjpeg-turbo-progs).

Run with python3 from anywhere; it replaces corpus/ whole.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "reference", "fixtures")
CORPUS = os.path.join(HERE, "corpus")


def copy_fixtures(target, names):
    for name in names:
        shutil.copy(os.path.join(FIXTURES, name), os.path.join(CORPUS, target, name))


def write(target, name, data):
    mode = "w" if isinstance(data, str) else "wb"
    with open(os.path.join(CORPUS, target, name), mode) as f:
        f.write(data)


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width, height, bit_depth, color_type, row_bytes, extra=b"", interlace=0):
    """A PNG whose rows use each of the five filter types in turn (any filter byte is valid over any data)."""
    raw = b"".join(bytes([y % 5]) + bytes((y * 31 + x * 7) % 256 for x in range(row_bytes)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + extra
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def png_seeds():
    write("png", "gray8.png", png(5, 4, 8, 0, 5))
    write("png", "rgb8.png", png(4, 3, 8, 2, 12))
    write("png", "rgba8.png", png(3, 3, 8, 6, 12))
    write("png", "gray-alpha8.png", png(3, 2, 8, 4, 6))
    write("png", "gray1.png", png(9, 3, 1, 0, 2))
    write("png", "text-chunk.png", png(2, 2, 8, 2, 6, extra=png_chunk(b"tEXt", b"Comment\x00fuzz seed")))
    write("png", "gray16-refused.png", png(2, 2, 16, 0, 4))
    copy_fixtures("png", ["palette.png", "exif_o1_expected.png", "exif_o5_expected.png"])


def jpeg_seeds():
    copy_fixtures("jpeg", ["gray.jpg", "subsampled.jpg", "exif_o1.jpg", "exif_o6.jpg"])
    width, height = 16, 8
    pixels = bytes((x * 16 + y * 8 + c * 40) % 256 for y in range(height) for x in range(width) for c in range(3))
    with tempfile.TemporaryDirectory() as folder:
        ppm = os.path.join(folder, "in.ppm")
        with open(ppm, "wb") as f:
            f.write(b"P6 %d %d 255\n" % (width, height) + pixels)
        for name, options in [("progressive.jpg", ["-progressive"]), ("arithmetic.jpg", ["-arithmetic"]),
                              ("restart.jpg", ["-restart", "1B"]), ("grayscale.jpg", ["-grayscale"]),
                              ("q10-optimized.jpg", ["-quality", "10", "-optimize"])]:
            data = subprocess.run(["cjpeg", *options, ppm], check=True, capture_output=True).stdout
            write("jpeg", name, data)


def safetensors(tensors, metadata=None):
    header, blobs, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs += data
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + blobs


def safetensors_seeds():
    copy_fixtures("safetensors", ["safetensors_basic.safetensors", "ckpt_expected.safetensors"])
    write("safetensors", "bf16.safetensors", safetensors({"w": ("BF16", [2, 2], struct.pack("<4H", 0x3F80, 0xBF80, 0x4000, 0))}))
    write("safetensors", "f64-refused.safetensors", safetensors({"d": ("F64", [1], struct.pack("<d", 1.5))}, {"format": "pt"}))
    write("safetensors", "scalar-and-empty.safetensors",
          safetensors({"s": ("F32", [], struct.pack("<f", 2.0)), "e": ("I32", [0, 3], b"")}))


def pickle_zip_seeds():
    copy_fixtures("pickle-zip", ["ckpt_zip.pth", "ckpt_module.pth", "ckpt_mmcv.pth", "ckpt_d2_p2.pkl", "ckpt_d2_p4.pkl",
                                 "ckpt_d2_p5.pkl", "evil_zip.pth", "evil_nested.pkl", "evil_eval.pkl"])


def rle_string(counts):
    """pycocotools' rleToString: from the fourth count on, the difference to the count two before, in
    5-bit groups with 0x20 marking continuation, offset by 48."""
    out = []
    for i, x in enumerate(counts):
        if i > 2:
            x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def coco_seeds():
    dataset = {
        "images": [{"id": 1, "width": 40, "height": 30, "file_name": "a.jpg"}, {"id": 7, "width": 8, "height": 6}],
        "categories": [{"id": 1, "name": "person", "supercategory": "person"}, {"id": 3, "name": "car"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 50.0, "bbox": [2, 3, 10, 5],
             "segmentation": [[2, 3, 12, 3, 12, 8, 2, 8], [20, 20, 25, 22, 21, 28]]},
            {"id": 2, "image_id": 7, "category_id": 3, "iscrowd": 1, "bbox": [0, 0, 2, 2],
             "segmentation": {"size": [6, 8], "counts": [0, 2, 4, 2, 40]}},
            {"id": 3, "image_id": 7, "category_id": 3, "iscrowd": 0, "bbox": [1, 1, 3, 3],
             "segmentation": {"size": [6, 8], "counts": rle_string([7, 2, 4, 3, 32])}},
            {"id": 4, "image_id": 1, "category_id": 1, "segmentation": [[5, 5, 4, 4]]},
            {"id": 5, "image_id": 1, "category_id": 1, "depth": 2, "bbox": [1, 1, 4, 4],
             "segmentation": [[1, 1, 5, 1, 5, 5, 1, 5]], "amodal_segmentation": [[0, 0, 6, 0, 6, 6, 0, 6]],
             "bg_object_segmentation": [[2, 2, 3, 2, 3, 3]]},
        ],
    }
    write("coco-annotations", "instances.json", json.dumps(dataset))
    write("coco-annotations", "no-annotations.json", json.dumps({"images": [], "categories": []}))
    results = [
        {"image_id": 1, "category_id": 1, "score": 0.9, "segmentation": {"size": [480, 640], "counts": rle_string([5000, 120, 360, 130, 301590])}},
        {"image_id": 1, "category_id": 3, "score": 0.25, "bbox": [10.5, 20, 30, 40.25]},
        {"image_id": 2, "category_id": 1, "score": 1e-3, "segmentation": [[10, 10, 50, 12, 30, 40]]},
        {"image_id": 2, "category_id": 1, "score": 0.5, "bbox": [1, 2, 3, 4],
         "segmentation": {"size": [480, 640], "counts": [100, 20, 307080]}},
    ]
    write("coco-results", "results.json", json.dumps(results))
    write("coco-results", "nan-score.json", '[{"image_id": 1, "category_id": 1, "score": NaN, "bbox": [0, 0, 1, 1]}]')


def rle_seeds():
    with open(os.path.join(FIXTURES, "coco_masks.json")) as f:
        cases = json.load(f)
    seen = set()
    for case in cases["rle"] + cases["polygons"]:
        text = f"{case['height']} {case['width']} {case['counts']}"
        if text not in seen and len(seen) < 12:
            seen.add(text)
            write("rle", f"mask{len(seen):02d}.txt", text)


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)
    for target in ["pickle-zip", "safetensors", "png", "jpeg", "coco-annotations", "coco-results", "rle"]:
        os.makedirs(os.path.join(CORPUS, target))
    pickle_zip_seeds()
    safetensors_seeds()
    png_seeds()
    jpeg_seeds()
    coco_seeds()
    rle_seeds()


if __name__ == "__main__":
    main()
