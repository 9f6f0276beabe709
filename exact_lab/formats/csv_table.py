"""CSV in three layouts, told apart by the header (or declared with ``layout=``):

- ``corners``: image, class, xmin, ymin, xmax, ymax (the TensorFlow object-detection CSV, whose
  ``width``/``height`` columns are the image size);
- ``wh``: image, class, x, y, width, height;
- ``classification``: image, class (a whole-image label).

A row of a box layout with empty coordinates is a whole-image label. Unknown columns go to meta.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

from ._checks import checked_box, image_size
from ._common import Parsed, fail, fmt, image_table, is_missing, meta_of, source_label, table, type_info

_ALIASES = {
    "image": ("image", "filename", "file_name", "file", "image_name", "imagename", "path", "image_path", "name"),
    "type": ("class", "label", "category", "type", "class_name", "category_name"),
    "xmin": ("xmin", "x_min", "x1", "left"), "ymin": ("ymin", "y_min", "y1", "top"),
    "xmax": ("xmax", "x_max", "x2", "right"), "ymax": ("ymax", "y_max", "y2", "bottom"),
    "x": ("x", "bx"), "y": ("y", "by"), "w": ("width", "w", "box_width"), "h": ("height", "h", "box_height"),
    "score": ("score", "confidence", "conf", "probability"),
    "image_width": ("image_width", "img_width"), "image_height": ("image_height", "img_height"),
}


def _find(cols, key):
    low = {c.lower().strip(): c for c in cols}
    for alias in _ALIASES[key]:
        if alias in low:
            return low[alias]
    return None


def read(path, *, images=None, layout=None, sep=None, **_) -> Parsed:
    try:
        df = pd.read_csv(path, sep=sep, engine="python", dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise fail(path, None, "no such file") from None
    except OSError as exc:  # a folder, no permission
        raise fail(path, None, f"cannot be read ({exc.strerror})") from None
    except (pd.errors.ParserError, csv.Error, UnicodeDecodeError, ValueError) as exc:
        raise fail(path, None, f"not a readable CSV table ({str(exc).splitlines()[0]})") from None
    cols = list(df.columns)
    c = {k: _find(cols, k) for k in _ALIASES}
    if c["image"] is None or c["type"] is None:
        raise fail(path, "line 1 (header)", "expected an image column (filename/image) and a class column (class/label)")
    corners = all(c[k] for k in ("xmin", "ymin", "xmax", "ymax"))
    wh = all(c[k] for k in ("x", "y", "w", "h"))
    layout = layout or ("corners" if corners else "wh" if wh else "classification")
    need = {"corners": ("xmin", "ymin", "xmax", "ymax"), "wh": ("x", "y", "w", "h"), "classification": ()}
    if layout not in need:
        raise fail(path, None, f"layout {layout!r}: expected corners, wh or classification")
    missing = [k for k in need[layout] if c[k] is None]
    if missing:
        raise fail(path, "line 1 (header)", f"the {layout} layout needs columns {', '.join(missing)}")
    used = {c["image"], c["type"], c["score"], *(c[k] for k in need[layout])}
    img_w = c["image_width"] or (c["w"] if layout == "corners" else None)
    img_h = c["image_height"] or (c["h"] if layout == "corners" else None)
    used |= {img_w, img_h}
    extra = [col for col in cols if col not in used]
    rows, imgs = [], {}
    for i, rec in enumerate(df.to_dict("records")):
        line = i + 2
        name = rec[c["image"]].strip()
        label = rec[c["type"]].strip()
        if not name or not label:
            raise fail(path, f"line {line}", "expected an image name and a class")
        size = (image_size(rec.get(img_w), path, f"line {line} column {img_w!r}") if img_w else None,
                image_size(rec.get(img_h), path, f"line {line} column {img_h!r}") if img_h else None)
        imgs.setdefault(name, size)
        vals = [rec[c[k]].strip() for k in need[layout]]
        if all(v == "" for v in vals):
            geom, shape = None, "global"
        else:
            nums = [_num(path, line, v, col, required=True) for v, col in zip(vals, [c[k] for k in need[layout]])]
            if layout == "corners":
                x0, y0, x1, y1 = nums
            else:
                x0, y0, x1, y1 = nums[0], nums[1], nums[0] + nums[2], nums[1] + nums[3]
            if x1 <= x0 or y1 <= y0:
                raise fail(path, f"line {line}", f"expected a box with positive width and height, got {vals}")
            W, H = size
            if W and H and (x0 < -1 or y0 < -1 or x1 > W + 1 or y1 > H + 1):
                raise fail(path, f"line {line}", f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) lies outside the {int(W)}x{int(H)} image")
            geom, shape = checked_box(path, f"line {line}", x0, y0, x1, y1), "box"
        meta = {col: rec[col] for col in extra if rec[col] != ""}
        score = _num(path, line, rec.get(c["score"]), c["score"]) if c["score"] else None
        rows.append({"image": name, "type": label, "geometry": geom, "shape": shape, "score": score,
                     "meta": meta or None})
    img_rows = [{"name": n, "width": s[0], "height": s[1]} for n, s in imgs.items()]
    return Parsed(annotations=table(rows), images=image_table(img_rows))


def _num(path, line, value, col, required=False):
    if value is None or str(value).strip() == "":
        if required:
            raise fail(path, f"line {line} column {col!r}", "expected a number")
        return None
    try:
        v = float(value)
    except ValueError:
        raise fail(path, f"line {line} column {col!r}", f"expected a number, got {str(value)[:30]!r}") from None
    if not np.isfinite(v):
        raise fail(path, f"line {line} column {col!r}", "expected a finite number")
    return v


def write(path, annotations, images, types, *, layout="corners", **_) -> dict:
    path = Path(path)
    out = path if path.suffix else path / "annotations.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    tinfo = type_info(types)
    ann = annotations
    sizes = {r["image_id"]: (r.get("width"), r.get("height")) for r in images.to_dict("records")}
    warnings = []
    vt = ann["vector_type"].to_numpy(dtype=object) if len(ann) else np.array([], dtype=object)
    if layout != "classification" and np.isin(vt, ["polygon", "mask", "point", "line", "polyline", "ellipse"]).any():
        warnings.append("CSV holds boxes: polygons, points, lines and ellipses written as their bounding boxes")
    if layout == "classification" and (vt != "global").any():
        warnings.append("the classification layout keeps the class only: shapes written as image labels")
    extra_keys = sorted({k for m in ann["meta"] for k in meta_of(m) if isinstance(meta_of(m).get(k), (str, int, float))}) \
        if len(ann) else []
    rows = []
    has_score = "score" in ann and ann["score"].notna().any()
    for r in ann.itertuples(index=False):
        label = source_label(tinfo.get(r.type), r.type)
        rec = {"filename": r.image}
        W, H = sizes.get(r.image_id, (None, None))
        if layout == "corners":
            rec.update(width=_txt(W), height=_txt(H), **{"class": label})
        else:
            rec.update(label=label)
        if layout != "classification":
            b = r.geometry.bounds if r.geometry is not None else None
            if layout == "corners":
                rec.update(zip(("xmin", "ymin", "xmax", "ymax"), [fmt(v) for v in b] if b else [""] * 4))
            else:
                rec.update(zip(("x", "y", "width", "height"),
                               [fmt(b[0]), fmt(b[1]), fmt(b[2] - b[0]), fmt(b[3] - b[1])] if b else [""] * 4))
        if has_score:
            rec["score"] = "" if is_missing(r.score) else fmt(r.score)
        m = meta_of(r.meta)
        for k in extra_keys:
            if k not in rec:
                rec[k] = m.get(k, "")
        rows.append(rec)
    cols = {"corners": ["filename", "width", "height", "class", "xmin", "ymin", "xmax", "ymax"],
            "wh": ["filename", "label", "x", "y", "width", "height"],
            "classification": ["filename", "label"]}[layout]
    cols += (["score"] if has_score else []) + [k for k in extra_keys if k not in cols]
    pd.DataFrame(rows, columns=cols).to_csv(out, index=False)
    return {"files": [str(out)], "exported": len(rows), "skipped": 0, "warnings": warnings}


def _txt(v):
    return "" if is_missing(v) else str(int(v))
