"""Writing a dataset's patches to a folder, with ``manifest.json`` beside them.

- ``imagefolder``: ``<class>/<i>.png`` (torchvision's ImageFolder layout; unlabelled patches in
  ``_none``); for segmentation ``images/<i>.png`` and ``masks/<i>.png`` (class indices).
- ``yolo``: ``images/<i>.png``, ``labels/<i>.txt`` (class cx cy w h, normalised), ``data.yaml``.
- ``coco``: ``images/<i>.png`` and ``annotations.json`` (boxes; for segmentation also each class
  region of the mask as RLE).
- ``parquet``: one ``patches.parquet``: index columns, the patch as PNG bytes, the target
  (label, boxes and labels as lists, or the mask as PNG bytes).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import InvalidValueError
from .manifest import save

FORMATS = ("imagefolder", "yolo", "coco", "parquet")


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def export(ds, folder, format: str = "imagefolder", *, progress: bool = False) -> str:
    if format not in FORMATS:
        raise InvalidValueError(f"export format {format!r}; expected one of {', '.join(FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    items = range(len(ds))
    if progress:
        from tqdm.auto import tqdm

        items = tqdm(items, desc=f"export {format}")
    writer = {"imagefolder": _imagefolder, "yolo": _yolo, "coco": _coco, "parquet": _parquet}[format]
    writer(ds, folder, items)
    save(ds.manifest, folder / "manifest.json")
    return str(folder)


def _name(i: int, n: int) -> str:
    return f"{i:0{max(6, len(str(n)))}d}"


def _imagefolder(ds, folder: Path, items) -> None:
    for i in items:
        patch, target = ds[i]
        name = _name(i, len(ds))
        if ds.kind == "segmentation":
            _write(folder / "images" / f"{name}.png", patch)
            _write(folder / "masks" / f"{name}.png", target)
            continue
        if ds.kind == "classification":
            label = target
        else:  # detection: the class of the patch's annotation, if centred on one
            label = int(ds.index["label"].iloc[i])
        cls = ds.classes[label] if label >= 0 else "_none"
        _write(folder / _safe(cls) / f"{name}.png", patch)


def _yolo(ds, folder: Path, items) -> None:
    size = ds.patch_size
    (folder / "labels").mkdir(parents=True, exist_ok=True)
    for i in items:
        patch, target = ds[i]
        name = _name(i, len(ds))
        _write(folder / "images" / f"{name}.png", patch)
        lines = []
        for (x0, y0, x1, y1), label in zip(*_boxes(ds, target)):
            lines.append(f"{label} {(x0 + x1) / 2 / size:.6f} {(y0 + y1) / 2 / size:.6f} "
                         f"{(x1 - x0) / size:.6f} {(y1 - y0) / size:.6f}")
        (folder / "labels" / f"{name}.txt").write_text("".join(line + "\n" for line in lines))
    names = "".join(f"  {k}: {json.dumps(c)}\n" for k, c in enumerate(ds.classes))
    (folder / "data.yaml").write_text(f"path: .\ntrain: images\nval: images\nnames:\n{names}")


def _coco(ds, folder: Path, items) -> None:
    images, annotations = [], []
    for i in items:
        patch, target = ds[i]
        name = _name(i, len(ds))
        _write(folder / "images" / f"{name}.png", patch)
        images.append({"id": i + 1, "file_name": f"images/{name}.png", "width": ds.patch_size, "height": ds.patch_size})
        if ds.kind == "segmentation":
            from pycocotools import mask as rle

            for label in np.unique(target[target > 0]):
                encoded = rle.encode(np.asfortranarray((target == label).astype(np.uint8)))
                x, y, w, h = (float(v) for v in rle.toBbox(encoded))
                annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(label),
                                    "bbox": [x, y, w, h], "area": float(rle.area(encoded)), "iscrowd": 0,
                                    "segmentation": {"size": encoded["size"], "counts": encoded["counts"].decode()}})
            continue
        for (x0, y0, x1, y1), label in zip(*_boxes(ds, target)):
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": int(label) + 1,
                                "bbox": [float(x0), float(y0), float(x1 - x0), float(y1 - y0)],
                                "area": float((x1 - x0) * (y1 - y0)), "iscrowd": 0})
    categories = [{"id": k + 1, "name": c} for k, c in enumerate(ds.classes)]
    (folder / "annotations.json").write_text(json.dumps({"images": images, "annotations": annotations,
                                                         "categories": categories}))


def _parquet(ds, folder: Path, items) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = {"i": [], "image_id": [], "frame": [], "l0_x": [], "l0_y": [], "uuid": [], "patch_png": [],
            "label": [], "boxes": [], "box_labels": [], "mask_png": []}
    for i in items:
        patch, target = ds[i]
        record = ds.index.iloc[i]
        for key in ("image_id", "frame", "l0_x", "l0_y", "uuid"):
            rows[key].append(record[key])
        rows["i"].append(i)
        rows["patch_png"].append(png_bytes(patch))
        rows["label"].append(int(target) if ds.kind == "classification" else int(record["label"]))
        boxes = target["boxes"].tolist() if ds.kind == "detection" else None
        rows["boxes"].append(boxes)
        rows["box_labels"].append(target["labels"].tolist() if ds.kind == "detection" else None)
        rows["mask_png"].append(png_bytes(target) if ds.kind == "segmentation" else None)
    table = pa.table(rows)
    table = table.replace_schema_metadata({"exact_lab.classes": json.dumps(ds.classes), "exact_lab.kind": ds.kind})
    pq.write_table(table, folder / "patches.parquet")


def _boxes(ds, target):
    if ds.kind != "detection":
        raise InvalidValueError(f"format needs boxes: a {ds.kind} dataset has none (use imagefolder or parquet)")
    return target["boxes"], target["labels"]


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_. " else "_" for c in name) or "_"
