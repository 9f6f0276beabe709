"""LabelMe JSON: one file per image with ``shapes`` (rectangle, circle, line, point, linestrip,
polygon, mask). ``group_id``, ``flags`` and ``description`` are kept; the embedded ``imageData``
is not (the image belongs to the image set, not to the annotations).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import shapely

from . import _geometry as G
from ._checks import checked_box, finite_geometry, image_size, json_object, points, polygon, text
from ._common import (
    IMAGE_SUFFIXES,
    Parsed,
    dump_json,
    fail,
    image_table,
    is_missing,
    load_json,
    meta_of,
    searched_folder,
    source_label,
    table,
    type_info,
)
from ._masks import check_mask_size


def read(path, *, images=None, **_) -> Parsed:
    p = Path(path)
    files = sorted(p.glob("*.json")) if p.is_dir() else [p]
    if not files:
        raise fail(p, None, "expected LabelMe .json files")
    rows, imgs, warnings = [], [], []
    for f in files:
        data = load_json(f)
        if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
            raise fail(f, "key 'shapes'", "expected a LabelMe object with a 'shapes' list")
        name = _image_name(f, data, warnings)
        w, h = image_size(data.get("imageWidth"), f, "imageWidth"), image_size(data.get("imageHeight"), f, "imageHeight")
        flags = json_object(data.get("flags"), f, "flags")
        meta = {"flags": flags} if flags else None
        imgs.append({"name": name, "width": w, "height": h, "meta": meta})
        for k, s in enumerate(data["shapes"]):
            rows.append(_shape(f, f"shapes[{k}]", s, name, w, h))
    return Parsed(annotations=table(rows), images=image_table(imgs), warnings=warnings,
                  searched=searched_folder(p, files, "LabelMe"))


def _image_name(f: Path, data, warnings) -> str:
    ref = (text(data.get("imagePath"), f, "imagePath", what="an image path") or "").replace("\\", "/").split("/")[-1]
    if ref and Path(ref).suffix.lower() in IMAGE_SUFFIXES:
        return ref
    # imagePath missing or not an image (LabelMe's tutorial file points at itself): the image
    # file beside the JSON with the same stem, if there is one.
    for sib in sorted(f.parent.glob(f.stem + ".*")):
        if sib.suffix.lower() in IMAGE_SUFFIXES:
            warnings.append(f"{f.name}: imagePath {data.get('imagePath')!r} is not an image; using {sib.name!r}")
            return sib.name
    return ref or f.stem


def _shape(f, where, s, image, w, h):
    if not isinstance(s, dict):
        raise fail(f, where, "expected a shape object")
    label = s.get("label")
    if not isinstance(label, str) or not label:
        raise fail(f, f"{where}.label", "expected a class name")
    kind = s.get("shape_type") or "polygon"
    need = {"rectangle": 2, "circle": 2, "line": 2, "point": 1, "linestrip": 2, "polygon": 3, "mask": 2, "points": 1}
    if not isinstance(kind, str) or kind not in need:
        raise fail(f, f"{where}.shape_type", f"expected one of {', '.join(need)}, got {str(kind)[:40]!r}")
    pts = s.get("points")
    if not isinstance(pts, list) or not all(isinstance(pt, list) and len(pt) == 2 for pt in pts):
        raise fail(f, f"{where}.points", "expected a list of [x, y] points")
    if len(pts) < need[kind]:
        raise fail(f, f"{where}.points", f"a {kind} needs at least {need[kind]} point(s), got {len(pts)}")
    xy = points(pts, f, f"{where}.points", minimum=need[kind])
    meta = {}
    for key in ("group_id", "description", "flags"):
        if s.get(key) not in (None, {}, ""):
            meta[key] = s[key]
    if kind == "rectangle":
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        if x1 <= x0 or y1 <= y0:
            raise fail(f, f"{where}.points", "a rectangle needs two distinct corners")
        geom, shape = checked_box(f, f"{where}.points", x0, y0, x1, y1), "box"
    elif kind == "circle":
        (cx, cy), (px, py) = xy[0], xy[1]
        r = float(np.hypot(px - cx, py - cy))
        if not r > 0:
            raise fail(f, f"{where}.points", "a circle needs a centre and a different point on its edge")
        geom, shape = finite_geometry(G.ellipse_from_center(cx, cy, r, r), f, f"{where}.points"), "ellipse"
        meta["labelme_circle"] = [float(px), float(py)]
    elif kind == "line":
        geom, shape = shapely.LineString(xy[:2]), "line"
    elif kind == "linestrip":
        geom, shape = shapely.LineString(xy), "polyline" if len(xy) > 2 else "line"
    elif kind in ("point", "points"):
        geom, shape = (shapely.Point(xy[0]) if len(xy) == 1 else shapely.MultiPoint(xy)), "point"
    elif kind == "polygon":
        geom, shape = polygon([xy], f, f"{where}.points"), "polygon"
    else:  # mask: a base64 PNG covering the box between the two points
        geom, shape, rle = _mask(f, where, s, xy, w, h)
        meta["rle"] = rle
    desc = text(s.get("description"), f, f"{where}.description", what="a description") or None
    return {"image": image, "type": label, "geometry": geom, "shape": shape, "description": desc,
            "meta": meta or None}


def _mask(f, where, s, xy, w, h):
    from PIL import Image

    try:
        png = Image.open(io.BytesIO(base64.b64decode(s.get("mask") or "")))
        small = np.asarray(png.convert("L")) > 0
    except Exception:
        raise fail(f, f"{where}.mask", "expected a base64-encoded PNG") from None
    x0, y0 = (int(round(v)) for v in xy.min(axis=0))
    full_h, full_w = int(h or y0 + small.shape[0]), int(w or x0 + small.shape[1])
    if x0 < 0 or y0 < 0 or full_h <= 0 or full_w <= 0:
        raise fail(f, f"{where}.points", f"expected the mask's corner inside the image, got ({x0}, {y0})")
    check_mask_size(full_h, full_w, f, f"{where}.mask")
    full = np.zeros((full_h, full_w), dtype=bool)
    full[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small[: full.shape[0] - y0, : full.shape[1] - x0]
    geom = G.mask_to_geometry(full)
    if geom is None:
        raise fail(f, f"{where}.mask", "the mask is empty")
    return geom, "mask", G.rle_encode(full)


# --- writing -----------------------------------------------------------------------------------


def write(path, annotations, images, types, **_) -> dict:
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    tinfo = type_info(types)
    ann = annotations
    groups = {iid: g for iid, g in ann.groupby("image_id", sort=False)} if len(ann) else {}
    files, warnings, written = [], [], 0
    for im in images.to_dict("records"):
        g = groups.get(im["image_id"])
        shapes = []
        tags = {}
        for row in (g.itertuples(index=False) if g is not None else []):
            label = source_label(tinfo.get(row.type), row.type)
            if row.vector_type == "global":
                tags[label] = True  # LabelMe keeps image-level labels as flags
                written += 1
                continue
            shapes.extend(_shape_out(row, label, warnings))
            written += 1
        m = meta_of(im.get("meta"))
        flags = {**m.get("flags", {}), **tags}
        doc = {"version": "5.0.1", "flags": flags, "shapes": shapes, "imagePath": im["name"], "imageData": None,
               "imageHeight": None if is_missing(im.get("height")) else int(im["height"]),
               "imageWidth": None if is_missing(im.get("width")) else int(im["width"])}
        f = root / (Path(im["name"]).stem + ".json")
        dump_json(doc, f, indent=True)
        files.append(str(f))
    return {"files": files, "exported": written, "skipped": int(len(ann) - written), "warnings": warnings}


def _shape_out(row, label, warnings):
    meta = meta_of(row.meta)
    base = {"label": label, "group_id": meta.get("group_id"), "description": meta.get("description", row.description
            if isinstance(row.description, str) else ""), "flags": meta.get("flags", {})}
    g, vt = row.geometry, row.vector_type
    if vt in ("box", "fixed_box") or (meta.get("shape") == "box" and G.is_rectangle(g)):
        x0, y0, x1, y1 = g.bounds
        return [{**base, "shape_type": "rectangle", "points": [[x0, y0], [x1, y1]]}]
    if vt == "ellipse":
        x0, y0, x1, y1 = g.bounds
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        if abs(rx - ry) <= 1e-9 * max(rx, 1):
            edge = meta.get("labelme_circle") or [cx + rx, cy]
            return [{**base, "shape_type": "circle", "points": [[cx, cy], list(edge)]}]
        warnings.append("an ellipse that is not a circle written as a polygon (LabelMe circles only)")
        return [{**base, "shape_type": "polygon",
                 "points": G.exterior_coords(G.ellipse_outline(g, meta.get("rotation", 0))).tolist()}]
    if vt == "point":
        pts = shapely.get_coordinates(g).tolist()
        return [{**base, "shape_type": "point" if len(pts) == 1 else "points", "points": pts}]
    if vt == "line":
        return [{**base, "shape_type": "line", "points": np.asarray(g.coords).tolist()}]
    if vt == "polyline":
        lines = list(g.geoms) if g.geom_type == "MultiLineString" else [g]
        return [{**base, "shape_type": "linestrip", "points": np.asarray(ln.coords).tolist()} for ln in lines]
    return [{**base, "shape_type": "polygon", "points": ring.tolist()}
            for ring in G.exterior_rings(g, row.image, "LabelMe", "shape", warnings)]
