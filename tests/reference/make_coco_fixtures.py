"""Writes the COCO fixtures the C# tests compare with: RLE strings, areas, boxes, IoUs and COCOeval stats.

Needs pycocotools (Debian bookworm has no package; build it from cocodataset/cocoapi's PythonAPI with
cython3, and replace the two `np.float` in cocoeval.py by `float` for numpy >= 1.24; coco.py also imports
matplotlib: python3-matplotlib) and, for the
Boundary AP cases, boundary-iou-api's `boundary_iou` package with python3-opencv. Run:

    PYTHONPATH=/path/to/cocoapi/PythonAPI:/path/to/boundary-iou-api python3 tests/reference/make_coco_fixtures.py

The real COCO annotations in ../shared/data are only hashed here, never copied into the fixtures.
"""
import copy
import contextlib
import hashlib
import io
import json
import os
import sys

import numpy as np
import pycocotools.mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures")
SHARED = os.path.join(HERE, "..", "..", "..", "shared", "data")
SHARED_FILES = {
    "occl10": "coco_val2017_occl10/annotations/instances_val2017_occl10.json",
    "mini": "coco_mini_val2017/annotations/instances_val2017.json",
}


def text(rle):
    return rle["counts"].decode("ascii") if isinstance(rle["counts"], bytes) else rle["counts"]


def mask_string(m):
    """Row-major '0'/'1' text, the form the C# tests rebuild masks from."""
    return "".join("1" if v else "0" for v in m.reshape(-1))


def rle_cases(rng):
    cases = []
    shapes = [(1, 1), (3, 4), (7, 5), (16, 16), (33, 20)]
    for h, w in shapes:
        for kind in ("empty", "full", "random", "blob", "wrap"):
            m = np.zeros((h, w), np.uint8)
            if kind == "full":
                m[:] = 1
            elif kind == "random":
                m = (rng.random((h, w)) < 0.4).astype(np.uint8)
            elif kind == "blob":
                m[h // 4: h // 4 + max(1, h // 2), w // 3: w // 3 + max(1, w // 2)] = 1
            elif kind == "wrap":
                # a run crossing from one column into the next: rleToBbox widens the box to full height
                m[h - 1, 0] = 1
                if w > 1:
                    m[0, 1] = 1
            rle = mask_utils.encode(np.asfortranarray(m))
            cases.append({
                "height": h, "width": w, "mask": mask_string(m), "counts": text(rle),
                "area": int(mask_utils.area(rle)), "bbox": mask_utils.toBbox(rle).tolist(),
            })
    return cases


def polygon_cases(rng):
    cases = []
    h, w = 37, 45
    fixed = [
        [1, 1, 4, 1, 4, 4, 1, 4],
        [0, 0, 45, 0, 45, 37, 0, 37],
        [-3.2, -1.7, 50.4, 10.1, 20.6, 44.9],
        [10.5, 10.5, 10.5, 10.5, 20.2, 10.5, 20.2, 30.7, 10.5, 30.7],
        [5.01, 5.99, 30.49, 6.51, 31.5, 20.5, 4.5, 21.5],
        [0.2, 0.2, 0.7, 0.2, 0.7, 0.7],
        [12, 3, 40, 18, 12, 33, 26, 18],
    ]
    for p in fixed:
        cases.append(p)
    for _ in range(40):
        k = int(rng.integers(3, 12))
        cx, cy = rng.uniform(-5, w + 5), rng.uniform(-5, h + 5)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(1, 25, k)
        xs = np.round(cx + rad * np.cos(ang), 2)
        ys = np.round(cy + rad * np.sin(ang), 2)
        cases.append([float(v) for xy in zip(xs, ys) for v in xy])
    out = []
    for p in cases:
        rle = mask_utils.frPyObjects([p], h, w)[0]
        out.append({"height": h, "width": w, "polygon": p, "counts": text(rle), "area": int(mask_utils.area(rle)),
                    "bbox": mask_utils.toBbox(rle).tolist()})
    boxes = [[2.3, 4.7, 10.1, 6.6], [0, 0, 45, 37], [-4, 30, 12, 20], [44.6, 1, 3, 3]]
    rles = mask_utils.frPyObjects(np.array(boxes, dtype=np.double), h, w)
    for b, rle in zip(boxes, rles):
        out.append({"height": h, "width": w, "box": b, "counts": text(rle), "area": int(mask_utils.area(rle)),
                    "bbox": mask_utils.toBbox(rle).tolist()})
    return out


def pair_cases(rng):
    h, w = 24, 30
    masks = []
    for i in range(8):
        m = np.zeros((h, w), np.uint8)
        y0, x0 = rng.integers(0, h - 4), rng.integers(0, w - 4)
        m[y0: y0 + rng.integers(2, 14), x0: x0 + rng.integers(2, 16)] = 1
        if i % 3 == 0:
            m ^= (rng.random((h, w)) < 0.1).astype(np.uint8)
        masks.append(mask_utils.encode(np.asfortranarray(m)))
    masks.append(mask_utils.encode(np.asfortranarray(np.zeros((h, w), np.uint8))))
    ious = mask_utils.iou(masks, masks, [0] * len(masks))
    crowd = mask_utils.iou(masks, masks, [1] * len(masks))
    union = mask_utils.merge(masks[:4])
    inter = mask_utils.merge(masks[:2], intersect=True)
    boxes = [[1.5, 2.0, 10.0, 5.5], [3.0, 1.0, 4.0, 9.0], [20.0, 20.0, 2.0, 2.0], [0.0, 0.0, 30.0, 24.0]]
    box_ious = mask_utils.iou(boxes, boxes, [0] * 4)
    box_crowd = mask_utils.iou(boxes, boxes, [1] * 4)
    return {
        "height": h, "width": w, "masks": [text(m) for m in masks],
        "iou": np.asarray(ious).tolist(), "iou_crowd": np.asarray(crowd).tolist(),
        "union_of_first_4": text(union), "intersection_of_first_2": text(inter),
        "boxes": boxes, "box_iou": np.asarray(box_ious).tolist(), "box_iou_crowd": np.asarray(box_crowd).tolist(),
    }


def annotation_hashes():
    out = {}
    for name, rel in SHARED_FILES.items():
        path = os.path.join(SHARED, rel)
        with contextlib.redirect_stdout(io.StringIO()):
            coco = COCO(path)
        rows = []
        for ann in coco.dataset["annotations"]:
            rle = coco.annToRLE(ann)
            if isinstance(rle["counts"], list):
                rle = mask_utils.frPyObjects(rle, *rle["size"])
            rows.append({"id": ann["id"], "sha256": hashlib.sha256(text(rle).encode()).hexdigest()[:16],
                         "area": int(mask_utils.area(rle)), "bbox": mask_utils.toBbox(rle).tolist()})
        out[name] = rows
    return out


def run_eval(gt_dataset, results, iou_type):
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = copy.deepcopy(gt_dataset)
        gt.createIndex()
        if iou_type == "boundary":
            from boundary_iou.coco_instance_api.coco import COCO as BCOCO
            from boundary_iou.coco_instance_api.cocoeval import COCOeval as BCOCOeval
            gt = BCOCO(get_boundary=True)
            gt.dataset = copy.deepcopy(gt_dataset)
            gt.createIndex()
            dt = gt.loadRes(copy.deepcopy(results))
            ev = BCOCOeval(gt, dt, iouType="boundary")
        else:
            dt = gt.loadRes(copy.deepcopy(results))
            ev = COCOeval(gt, dt, iouType=iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(v) for v in ev.stats]


def random_mask(rng, h, w):
    m = np.zeros((h, w), np.uint8)
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    ry, rx = rng.uniform(2, h / 2), rng.uniform(2, w / 2)
    yy, xx = np.mgrid[0:h, 0:w]
    m[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1] = 1
    if not m.any():
        m[int(min(cy, h - 1)), int(min(cx, w - 1))] = 1
    return m


def synthetic_eval_case(seed):
    """Small random GT (some crowd, some polygon) and noisy detections with tied scores."""
    rng = np.random.default_rng(seed)
    images, anns, results = [], [], []
    cats = [{"id": 1, "name": "a"}, {"id": 3, "name": "b"}, {"id": 7, "name": "c"}]
    ann_id = 1
    for img_id in (5, 2, 9, 4):  # not sorted: COCOeval sorts image ids
        h, w = int(rng.integers(30, 60)), int(rng.integers(30, 60))
        images.append({"id": img_id, "width": w, "height": h, "file_name": f"{img_id}.png"})
        n = 0 if img_id == 9 else int(rng.integers(2, 7))  # image 9 has no annotations
        for _ in range(n):
            m = random_mask(rng, h, w)
            rle = mask_utils.encode(np.asfortranarray(m))
            crowd = int(rng.random() < 0.15)
            cat = int(rng.choice([1, 3]))  # category 7 never has ground truth
            if crowd:
                counts = [int(c) for c in _uncompressed(m)]
                seg = {"size": [h, w], "counts": counts}
            elif rng.random() < 0.4:
                x, y, bw, bh = mask_utils.toBbox(rle)
                seg = [[x, y, x + bw, y, x + bw, y + bh * 0.7, x + bw * 0.4, y + bh]]
                rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
            else:
                seg = {"size": [h, w], "counts": text(rle)}
            area = float(mask_utils.area(rle))
            anns.append({"id": ann_id, "image_id": img_id, "category_id": cat, "segmentation": seg, "area": area,
                         "bbox": mask_utils.toBbox(rle).tolist(), "iscrowd": crowd})
            ann_id += 1
            for k in range(int(rng.integers(0, 3))):
                s = 1 if k == 0 else 3  # first copies are near-perfect, so Boundary AP is not all zeros
                d = np.roll(m, (int(rng.integers(-s, s + 1)), int(rng.integers(-s, s + 1))), axis=(0, 1))
                if not d.any():
                    continue
                r = mask_utils.encode(np.asfortranarray(d))
                results.append({"image_id": img_id, "category_id": cat if rng.random() < 0.85 else 7,
                                "segmentation": {"size": [h, w], "counts": text(r)},
                                "score": float(rng.choice([0.9, 0.5, 0.5, 0.3, round(rng.random(), 3)]))})
        for _ in range(int(rng.integers(0, 4))):
            d = random_mask(rng, h, w)
            r = mask_utils.encode(np.asfortranarray(d))
            results.append({"image_id": img_id, "category_id": int(rng.choice([1, 3, 7])),
                            "segmentation": {"size": [h, w], "counts": text(r)}, "score": float(rng.choice([0.5, 0.2]))})
    return {"images": images, "annotations": anns, "categories": cats}, results


def _uncompressed(m):
    flat = m.reshape(-1, order="F")
    counts, value, run = [], 0, 0
    for v in flat:
        if v != value:
            counts.append(run)
            run, value = 0, v
        run += 1
    counts.append(run)
    return counts


def eval_cases():
    cases = []
    for seed in range(6):
        gt, res = synthetic_eval_case(seed)
        case = {"name": f"random-{seed}", "gt": gt, "results": res}
        case["segm"] = run_eval(gt, res, "segm")
        boxed = [dict(r, bbox=mask_utils.toBbox(r["segmentation"]).tolist()) for r in res]
        for r in boxed:
            del r["segmentation"]
        case["bbox_results"] = boxed
        case["bbox"] = run_eval(gt, boxed, "bbox")
        case["boundary"] = run_eval(gt, res, "boundary")
        cases.append(case)
    return cases


def main():
    rng = np.random.default_rng(20240517)
    os.makedirs(OUT, exist_ok=True)
    masks = {
        "iou_thresholds": np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True).tolist(),
        "recall_thresholds": np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True).tolist(),
        "rle": rle_cases(rng), "polygons": polygon_cases(rng), "pairs": pair_cases(rng),
    }
    with open(os.path.join(OUT, "coco_masks.json"), "w") as f:
        json.dump(masks, f, separators=(",", ":"))
    with open(os.path.join(OUT, "coco_eval_cases.json"), "w") as f:
        json.dump(eval_cases(), f, separators=(",", ":"))
    if os.path.isdir(SHARED):
        with open(os.path.join(OUT, "coco_shared_annotations.json"), "w") as f:
            json.dump(annotation_hashes(), f, separators=(",", ":"))
    else:
        print(f"{SHARED} absent: coco_shared_annotations.json not regenerated", file=sys.stderr)


if __name__ == "__main__":
    main()
