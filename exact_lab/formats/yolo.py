"""YOLO label files in their layouts (where the files are: ``yolo_layouts.py``):

- Ultralytics: ``data.yaml`` (names, train/val/test image folders or lists), ``labels/`` parallel
  to ``images/``; boxes, polygon (segment) and pose lines, as Roboflow and others export them;
- Darknet: ``obj.names`` + ``obj.data`` + ``train.txt`` listing images, a ``.txt`` beside each
  image; also loose folders (``obj.names`` or ``classes.txt`` with label files);
- the single-file Keras/PyTorch layout: ``path x1,y1,x2,y2,class ...`` per line, in pixels.

Label lines are normalised to the image size, so sizes come from the image files beside the
labels, else from the project's images, else the import stops with an error naming the label.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import yaml

from . import _geometry as G
from ._checks import checked_box, finite_geometry, polygon
from ._common import (
    Parsed,
    fail,
    fmt,
    image_size_from_file,
    image_table,
    is_missing,
    read_text,
    source_label,
    table,
    type_info,
    unique_names,
)
from .yolo_layouts import Dataset, find_dataset, find_names

# --- reading -----------------------------------------------------------------------------------


def read(path, *, images=None, layout=None, classes=None, normalized=None, **_) -> Parsed:
    p = Path(path)
    if not p.exists():
        raise fail(p, None, "no such file or folder")
    if p.is_file() and p.suffix.lower() not in (".yaml", ".yml") and p.name != "obj.data":
        return _read_keras(p, classes)
    dataset = find_dataset(p, classes)
    parsed = _read_pairs(dataset, images, normalized)
    parsed.warnings[:0] = dataset.warnings
    return parsed


def _read_pairs(dataset: Dataset, images, normalized) -> Parsed:
    """Read every label file of the dataset; normalised values are scaled by the image's size."""
    names, kpt_shape = dataset.names, dataset.kpt_shape
    img_names, warnings = _image_names(dataset, images)
    labelled, sizes = [], {}
    for (label, img), name in zip(dataset.pairs, img_names):
        size = image_size_from_file(img) if img is not None else None
        sizes[name] = size or _project_size(name, images)
        if label is not None and label.exists():
            labelled.append((label, name, _parse_label_file(label, len(names), kpt_shape)))
    if normalized is None:
        mx = max((np.max(c) for _, _, rows in labelled for (_, c, _, _) in rows if len(c)), default=0.0)
        # shapes that stick out of the image a little still make normalised files (<= 1.05)
        normalized = mx <= 1.05
        if not normalized:
            warnings.append("coordinates above 1 found: read as pixels, not normalised values")
    out = []
    for label, name, rows in labelled:
        size = sizes.get(name)
        if normalized and rows and size is None:
            raise fail(label, None, f"normalised coordinates need the size of image {name!r}: no image file "
                       "was found beside the labels and the project has no image of that name")
        scale = np.array(size if normalized else (1.0, 1.0), dtype=float)
        for line_no, c, cls_id, kind in rows:
            out_of = (c < -0.05) | (c > 1.05)
            if normalized and out_of.any():
                raise fail(label, f"line {line_no}", "expected normalised coordinates between 0 and 1, "
                           f"got {float(c[np.argmax(out_of)]):g}")
            row = _shape(label, f"line {line_no}", c, kind, scale, kpt_shape)
            out.append({"image": name, "type": names[cls_id], **row})
    img_rows = [{"name": n, "width": s[0] if s else None, "height": s[1] if s else None, "meta": None}
                for n, s in sizes.items()]
    hints = {n: {"meta": {"yolo_id": i}} for i, n in enumerate(names)}
    if kpt_shape:
        for h in hints.values():
            h["vector_type"] = "point"
            h["node_count"] = int(kpt_shape[0])
    parsed = Parsed(annotations=table(out), images=image_table(img_rows), types=hints, warnings=warnings)
    first = labelled[0][0] if labelled else None
    parsed.searched = f"{len(labelled)} label file(s) such as {first} hold no label line"
    return parsed


def _image_names(dataset: Dataset, images) -> tuple[list[str], list[str]]:
    """Image names by path under the dataset root (file names where they are unique); a label
    without its image file takes the name of the project's image with that stem."""
    root = dataset.root
    rel = []
    for lab, img in dataset.pairs:
        f = img if img is not None else lab
        r = str(f.relative_to(root)) if _under(f, root) else f.name
        rel.append(r if img is not None else os.path.join(os.path.dirname(r), Path(r).stem))
    names, warnings = unique_names(rel)
    names = [n if img is not None else _project_name(n, images) for n, (_, img) in zip(names, dataset.pairs)]
    return names, warnings


def _shape(label: Path, where: str, c: np.ndarray, kind: str, scale: np.ndarray, kpt_shape) -> dict:
    """One label line's values (in image sizes when normalised) as geometry, in pixels."""
    W, H = scale
    if kind in ("box", "box+conf"):
        cx, cy, bw, bh = c[:4]
        if bw <= 0 or bh <= 0:
            raise fail(label, where, "expected a box with positive width and height")
        # rounded to a millionth of a pixel: drops float noise (9.00000000000001), keeps data
        corners = np.round([(cx - bw / 2) * W, (cy - bh / 2) * H, (cx + bw / 2) * W, (cy + bh / 2) * H], 6)
        row = {"geometry": checked_box(label, where, *corners), "shape": "box"}
        if kind == "box+conf":
            row["score"] = float(c[4])
        return row
    if kind == "pose":
        pts = c[4:].reshape(-1, kpt_shape[1])
        if kpt_shape[1] == 3 and not np.isin(pts[:, 2], (0, 1, 2)).all():
            raise fail(label, where, "expected keypoint visibility flags 0, 1 or 2")
        vis = pts[:, 2].astype(int).tolist() if kpt_shape[1] == 3 else [2] * len(pts)
        keep = np.array(vis) > 0
        cx, cy, bw, bh = c[:4]
        box = [(cx - bw / 2) * W, (cy - bh / 2) * H, bw * W, bh * H]
        geom = finite_geometry(shapely.MultiPoint(pts[keep, :2] * scale), label, where)
        return {"geometry": geom, "shape": "point", "meta": {"visibility": vis, "coco": {"bbox": box}}}
    return {"geometry": polygon([np.round(c.reshape(-1, 2) * scale, 6)], label, where), "shape": "polygon"}


def _under(p, root):
    try:
        p.relative_to(root)
        return True
    except ValueError:
        return False


def _project_name(stem_name, images):
    """A label without an image file: the project image with that stem, if there is one."""
    if images is None or len(images) == 0:
        return stem_name
    stem = Path(stem_name).name
    hits = [n for n in images["name"] if Path(n).stem == stem]
    if len(hits) > 1:  # same stem in several subsets: the one whose folder matches the label's
        folder = Path(stem_name).parent.name
        hits = [n for n in hits if Path(n).parent.name == folder] or hits
    return hits[0] if len(hits) == 1 else stem_name


def _project_size(name, images):
    if images is None or len(images) == 0:
        return None
    hit = images[images["name"] == name]
    if len(hit) and not is_missing(hit.iloc[0]["width"]) and not is_missing(hit.iloc[0]["height"]):
        return int(hit.iloc[0]["width"]), int(hit.iloc[0]["height"])
    return None


def _parse_label_file(label: Path, n_classes: int, kpt_shape):
    rows = []
    for n, line in enumerate(read_text(label).splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        try:
            cls_id = int(tokens[0])
        except ValueError:
            raise fail(label, f"line {n}", f"expected an integer class id first, got {tokens[0]!r}") from None
        if not 0 <= cls_id < n_classes:
            raise fail(label, f"line {n}", f"unknown class: class id {cls_id} is beyond the {n_classes} class names")
        try:
            c = np.array([float(t) for t in tokens[1:]])
        except ValueError:
            raise fail(label, f"line {n}", "expected numbers after the class id") from None
        if not np.isfinite(c).all():
            raise fail(label, f"line {n}", "expected finite numbers")
        k = len(c)
        if kpt_shape and k == 4 + kpt_shape[0] * kpt_shape[1]:
            kind = "pose"
        elif k == 4:
            kind = "box"
        elif k == 5:
            kind = "box+conf"
        elif k >= 6 and k % 2 == 0:
            kind = "polygon"
        else:
            raise fail(label, f"line {n}", f"expected 4 box values or an even number (>= 6) of polygon "
                       f"coordinates after the class id, got {k} values")
        rows.append((n, c, cls_id, kind))
    return rows


def _read_keras(path: Path, classes) -> Parsed:
    root = path.parent
    names, _ = find_names(root, classes) if classes is not None or any(
        (root / n).exists() for n in ("classes.txt", "obj.names", "classes.names")) else (None, None)
    out = []
    seen = {}
    for n, line in enumerate(read_text(path).splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        img = tokens[0]
        name = os.path.basename(img)
        f = (root / img) if not os.path.isabs(img) else Path(img)
        seen.setdefault(name, image_size_from_file(f) if f.exists() else None)
        for t in tokens[1:]:
            parts = t.split(",")
            if len(parts) != 5:
                raise fail(path, f"line {n}", f"expected boxes as x1,y1,x2,y2,class, got {t!r}")
            try:
                x1, y1, x2, y2 = (float(v) for v in parts[:4])
                cls_id = int(parts[4])
            except ValueError:
                raise fail(path, f"line {n}", f"expected numbers in {t!r}") from None
            if names is not None and not 0 <= cls_id < len(names):
                raise fail(path, f"line {n}", f"unknown class: class id {cls_id} is beyond the {len(names)} class names")
            if not x1 < x2 or not y1 < y2:
                raise fail(path, f"line {n}", f"expected x1 < x2 and y1 < y2 in {t!r}")
            out.append({"image": name, "type": names[cls_id] if names else str(cls_id),
                        "geometry": checked_box(path, f"line {n}", x1, y1, x2, y2), "shape": "box"})
    warnings = [] if names else ["no classes file beside the annotations: classes are named by their id"]
    img_rows = [{"name": k, "width": v[0] if v else None, "height": v[1] if v else None} for k, v in seen.items()]
    hints = {n: {"meta": {"yolo_id": i}} for i, n in enumerate(names or [])}
    return Parsed(annotations=table(out), images=image_table(img_rows), types=hints, warnings=warnings)


# --- writing -----------------------------------------------------------------------------------


def write(path, annotations, images, types, *, layout="ultralytics", precision=None, **_) -> dict:
    root = Path(path)
    warnings: list[str] = []
    tinfo = type_info(types)
    ann = annotations
    vt = ann["vector_type"].to_numpy(dtype=object) if len(ann) else np.array([], dtype=object)
    ok = np.isin(vt, ["box", "fixed_box", "ellipse", "polygon", "mask"])
    names, class_of = _class_ids(tinfo, ann[ok])
    if (~ok).any():
        kinds = pd.Series(vt[~ok]).value_counts().to_dict()
        warnings.append(f"YOLO holds boxes and polygons only: {int((~ok).sum())} annotation(s) not written {kinds}")
    if (vt == "ellipse").any():
        warnings.append(f"{int((vt == 'ellipse').sum())} ellipse(s) written as their bounding boxes")
    ann = ann[ok]
    num = (lambda v: fmt(v)) if precision is None else (lambda v: f"{v:.{precision}f}")
    if layout == "keras":
        return _write_keras(root, ann, images, tinfo, names, class_of, num, warnings, int((~ok).sum()))
    sizes = {r["image_id"]: (r.get("width"), r.get("height"), r["name"]) for r in images.to_dict("records")}
    lines: dict = {iid: [] for iid in sizes}
    for row in ann.itertuples(index=False):
        w, h, name = sizes.get(row.image_id, (None, None, row.image))
        if is_missing(w) or is_missing(h) or not w or not h:
            raise fail(root, f"image {name!r}", "YOLO needs the image's width and height to normalise coordinates")
        cid = class_of[source_label(tinfo.get(row.type), row.type)]
        g = row.geometry
        meta = row.meta if isinstance(row.meta, dict) else {}
        if row.vector_type in ("box", "fixed_box", "ellipse") or (meta.get("shape") == "box" and G.is_rectangle(g)):
            x0, y0, x1, y1 = g.bounds
            vals = [(x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]
            lines.setdefault(row.image_id, []).append(" ".join([str(cid)] + [num(v) for v in vals]))
        else:
            for ring in G.exterior_rings(g, name, "YOLO", "line", warnings):
                xy = ring / [w, h]
                lines.setdefault(row.image_id, []).append(" ".join([str(cid)] + [num(v) for v in xy.reshape(-1)]))
    files = _write_layout(root, layout, names, lines, sizes, images)
    return {"files": files, "exported": int(len(ann)), "skipped": int((~ok).sum()), "warnings": warnings}


def _class_ids(tinfo, ann):
    order = sorted(tinfo.values(), key=lambda r: (r.get("meta", {}).get("yolo_id", 1e9),
                                                  r.get("sort_order") if not is_missing(r.get("sort_order")) else 1e9,
                                                  r["name"]))
    names = []
    for r in order:
        if r.get("vector_type") in ("global", "point", "line", "polyline"):
            continue
        lb = source_label(r, r["name"])
        if lb not in names:
            names.append(lb)
    for t in (ann["type"] if len(ann) else []):
        lb = source_label(tinfo.get(t), t)
        if lb not in names:
            names.append(lb)
    return names, {n: i for i, n in enumerate(names)}


def _write_layout(root: Path, layout, names, lines, sizes, images) -> list[str]:
    files = []
    stems = {}
    for iid, (_w, _h, name) in sizes.items():
        stems[iid] = Path(name).stem
    if layout == "darknet":
        data = root / "obj_train_data"
        data.mkdir(parents=True, exist_ok=True)
        (root / "obj.names").write_text("\n".join(names) + "\n")
        (root / "obj.data").write_text(
            f"classes = {len(names)}\ntrain = data/train.txt\nnames = data/obj.names\nbackup = backup/\n")
        listing = []
        for iid, (_w, _h, name) in sizes.items():
            (data / f"{stems[iid]}.txt").write_text("".join(ln + "\n" for ln in lines.get(iid, [])))
            listing.append(f"data/obj_train_data/{name}")
        (root / "train.txt").write_text("\n".join(listing) + "\n")
        files = [str(root / "obj.data"), str(root / "obj.names"), str(root / "train.txt"), str(data)]
    else:
        subset_of = {}
        for r in images.to_dict("records"):
            m = r.get("meta") if isinstance(r.get("meta"), dict) else {}
            folder = Path(r["name"]).parent.name  # images named subset/.../name keep their subset
            subset_of[r["image_id"]] = str(m.get("subset") or folder or "train")
        for iid in sizes:
            d = root / "labels" / subset_of.get(iid, "train")
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{stems[iid]}.txt").write_text("".join(ln + "\n" for ln in lines.get(iid, [])))
        subsets = sorted(set(subset_of.values()) or {"train"})
        conf = {"path": ".", **{("val" if s == "validation" else s): f"images/{s}" for s in subsets},
                "names": {i: n for i, n in enumerate(names)}}
        if "train" not in conf:
            conf["train"] = f"images/{subsets[0]}"
        (root / "data.yaml").write_text(yaml.safe_dump(conf, sort_keys=False, allow_unicode=True))
        files = [str(root / "data.yaml"), str(root / "labels")]
    return files


def _write_keras(root: Path, ann, images, tinfo, names, class_of, num, warnings, skipped) -> dict:
    """One line per image: ``name x1,y1,x2,y2,class ...`` in pixels; polygons by their boxes."""
    out = root if root.suffix else root / "annotations.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    per_image: dict = {r["name"]: [] for r in images.to_dict("records")}
    n_poly = 0
    for row in ann.itertuples(index=False):
        x0, y0, x1, y1 = row.geometry.bounds
        if row.vector_type in ("polygon", "mask"):
            n_poly += 1
        cid = class_of[source_label(tinfo.get(row.type), row.type)]
        per_image.setdefault(row.image, []).append(",".join([num(x0), num(y0), num(x1), num(y1), str(cid)]))
    if n_poly:
        warnings.append(f"{n_poly} polygon(s) written as their bounding boxes (the Keras layout has boxes only)")
    out.write_text("".join(" ".join([name] + boxes) + "\n" for name, boxes in per_image.items()))
    classes = out.parent / "classes.txt"
    classes.write_text("\n".join(names) + "\n")
    return {"files": [str(out), str(classes)], "exported": int(len(ann)), "skipped": skipped, "warnings": warnings}
