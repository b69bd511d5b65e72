"""Writes small image fixtures for the C# PNG/JPEG reader tests into tests/reference/fixtures/.

Run with /usr/bin/python3 (Debian PIL, which decodes JPEG with the system libjpeg-turbo, as TurboJPEG does).
- exif_o{1..8}.jpg: one 7x5 photo-like image stored with EXIF orientation 1..8;
  exif_o{n}_expected.png: what detectron2's read_image yields for it (PIL decode, then the transpose
  detectron2/data/detection_utils.py _apply_exif_orientation applies), as RGB.
- subsampled.jpg (4:2:0, odd size) and gray.jpg: compared against djpeg at test time.
- palette.png / palette_expected.png: a paletted PNG and PIL's convert("RGB") of it.
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")

# detectron2's table: EXIF orientation -> PIL transpose.
_TRANSPOSE = {
    2: Image.FLIP_LEFT_RIGHT,
    3: Image.ROTATE_180,
    4: Image.FLIP_TOP_BOTTOM,
    5: Image.TRANSPOSE,
    6: Image.ROTATE_270,
    7: Image.TRANSVERSE,
    8: Image.ROTATE_90,
}


def photo(width, height, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) * 9 % 256], axis=-1)
    noise = rng.integers(-20, 21, size=base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def main():
    os.makedirs(OUT, exist_ok=True)
    source = Image.fromarray(photo(7, 5, 1), "RGB")
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = os.path.join(OUT, f"exif_o{orientation}.jpg")
        source.save(path, quality=95, subsampling=0, exif=exif.tobytes())
        decoded = Image.open(path)
        assert decoded.getexif().get(0x0112) == orientation
        decoded = decoded.convert("RGB")
        if orientation in _TRANSPOSE:
            decoded = decoded.transpose(_TRANSPOSE[orientation])
        decoded.save(os.path.join(OUT, f"exif_o{orientation}_expected.png"))

    Image.fromarray(photo(33, 17, 2), "RGB").save(os.path.join(OUT, "subsampled.jpg"), quality=80, subsampling=2)
    Image.fromarray(photo(9, 6, 3)[:, :, 0], "L").save(os.path.join(OUT, "gray.jpg"), quality=90)

    palette = Image.fromarray(photo(6, 4, 4), "RGB").quantize(colors=5)
    palette.save(os.path.join(OUT, "palette.png"))
    palette.convert("RGB").save(os.path.join(OUT, "palette_expected.png"))


if __name__ == "__main__":
    main()
