"""Datumaro JSON (``annotations/<subset>.json``): label, bbox, polygon, polyline, points, mask
(RLE), ellipse and caption annotations; attributes, group and z-order kept in meta."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from . import _geometry as G
from ._common import (
    Parsed,
    dump_json,
    fail,
    image_table,
    is_missing,
    load_json,
    meta_of,
    source_label,
    table,
    type_info,
    unique_names,
)


def read(path, *, images=None, **_) -> Parsed:
    p = Path(path)
    if p.is_dir():
        sub = p / "annotations"
        files = sorted((sub if sub.is_dir() else p).glob("*.json"))
    else:
        files = [p]
    if not files:
        raise fail(p, None, "expected Datumaro annotations/*.json files")
    docs = []
    for f in files:
        data = load_json(f)
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise fail(f, "key 'items'", "expected a Datumaro object with an 'items' list")
        docs.append((f, data))
    # image names: the file name of the item's image, kept apart by path where names clash
    refs = []
    for f, data in docs:
        for i, it in enumerate(data["items"]):
            if not isinstance(it, dict) or "id" not in it:
                raise fail(f, f"items[{i}]", "expected an object with an 'id'")
            img = it.get("image") or it.get("media") or {}
            refs.append(str(img.get("path") or it["id"]))
    names, warnings = unique_names(refs)
    rows, imgs, hints = [], [], {}
    k = 0
    for f, data in docs:
        labels = _labels(f, data, hints)
        subset = f.stem
        for i, it in enumerate(data["items"]):
            name = names[k]
            k += 1
            img = it.get("image") or it.get("media") or {}
            size = img.get("size")
            h, w = (size if isinstance(size, list) and len(size) == 2 else (None, None))
            imgs.append({"name": name, "width": w, "height": h,
                         "meta": {"datumaro_id": it["id"], "subset": subset, **({"attr": it["attr"]} if it.get("attr") else {})}})
            for j, a in enumerate(it.get("annotations") or []):
                row = _annotation(f, f"items[{i}].annotations[{j}]", a, labels, w, h)
                if row is None:
                    warnings.append(f"{f.name} items[{i}].annotations[{j}]: type {a.get('type')!r} not supported; skipped")
                    continue
                row["image"] = name
                rows.append(row)
    skipped = sum(1 for x in warnings if "not supported" in x)
    return Parsed(annotations=table(rows), images=image_table(imgs), types=hints, warnings=warnings, skipped=skipped)


def _labels(f, data, hints) -> list[str]:
    cats = data.get("categories") or {}
    lab = cats.get("label") or {}
    labels = []
    for i, entry in enumerate(lab.get("labels") or []):
        if not isinstance(entry, dict) or "name" not in entry:
            raise fail(f, f"categories.label.labels[{i}]", "expected an object with a 'name'")
        labels.append(str(entry["name"]))
        meta = {}
        if entry.get("parent"):
            meta["parent"] = entry["parent"]
        if entry.get("attributes"):
            meta["attributes_spec"] = entry["attributes"]
        hints.setdefault(str(entry["name"]), {"meta": meta})
    for item in (cats.get("points") or {}).get("items") or []:
        lid = item.get("label_id")
        if isinstance(lid, int) and 0 <= lid < len(labels):
            h = hints[labels[lid]]
            h["vector_type"] = "point"
            h["meta"]["keypoints"] = item.get("labels") or []
            h["meta"]["skeleton"] = item.get("joints") or []
            if item.get("labels"):
                h["node_count"] = len(item["labels"])
    return labels


def _flat_points(f, where, a, minimum):
    pts = a.get("points")
    if not isinstance(pts, list) or len(pts) % 2 or len(pts) < 2 * minimum:
        raise fail(f, f"{where}.points", f"expected [x1, y1, x2, y2, ...] with at least {minimum} points")
    try:
        arr = np.asarray(pts, dtype=float).reshape(-1, 2)
    except (TypeError, ValueError):
        raise fail(f, f"{where}.points", "expected numbers") from None
    if not np.isfinite(arr).all():
        raise fail(f, f"{where}.points", "expected finite numbers")
    return arr


def _annotation(f, where, a, labels, w, h):
    if not isinstance(a, dict) or "type" not in a:
        raise fail(f, where, "expected an annotation object with a 'type'")
    t = a["type"]
    lid = a.get("label_id")
    if lid is None:
        label = "unlabeled"
    elif not isinstance(lid, int) or not 0 <= lid < len(labels):
        raise fail(f, f"{where}.label_id", f"unknown class: label id {lid!r} is not in categories.label ({len(labels)} labels)")
    else:
        label = labels[lid]
    meta = {}
    if a.get("attributes"):
        meta["attributes"] = dict(a["attributes"])
    for key in ("group", "z_order", "id"):
        if a.get(key):
            meta[f"datumaro_{key}" if key == "id" else key] = a[key]
    score = (a.get("attributes") or {}).get("score")
    desc = None
    if t == "label":
        geom, shape = None, "global"
    elif t == "caption":
        geom, shape, desc = None, "global", a.get("caption")
    elif t == "bbox":
        b = a.get("bbox")
        if not isinstance(b, list) or len(b) != 4:
            raise fail(f, f"{where}.bbox", "expected [x, y, width, height]")
        try:
            x, y, bw, bh = (float(v) for v in b)
        except (TypeError, ValueError):
            raise fail(f, f"{where}.bbox", "expected numbers") from None
        if bw <= 0 or bh <= 0:
            raise fail(f, f"{where}.bbox", "expected positive width and height")
        geom, shape = shapely.box(x, y, x + bw, y + bh), "box"
    elif t == "polygon":
        geom, shape = shapely.Polygon(_flat_points(f, where, a, 3)), "polygon"
    elif t == "polyline":
        pts = _flat_points(f, where, a, 2)
        geom, shape = shapely.LineString(pts), "line" if len(pts) == 2 else "polyline"
    elif t == "points":
        pts = _flat_points(f, where, a, 1)
        vis = a.get("visibility")
        if vis:
            meta["visibility"] = list(vis)
            pts = pts[np.asarray(vis) > 0] if len(vis) == len(pts) else pts
        if len(pts) == 0:
            return None
        geom, shape = (shapely.Point(pts[0]) if len(pts) == 1 else shapely.MultiPoint(pts)), "point"
    elif t == "ellipse":
        pts = _flat_points(f, where, a, 2)
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        geom, shape = shapely.box(x0, y0, x1, y1), "ellipse"
    elif t == "mask":
        rle = a.get("rle")
        if not isinstance(rle, dict):
            raise fail(f, f"{where}.rle", "expected an RLE object with 'counts' and 'size'")
        try:
            mask = G.rle_decode(rle)
        except Exception as exc:
            raise fail(f, f"{where}.rle", f"expected a valid RLE mask ({exc})") from None
        geom = G.mask_to_geometry(mask)
        if geom is None:
            raise fail(f, f"{where}.rle", "the mask is empty")
        shape = "mask"
        meta["rle"] = G.rle_encode(mask)
    else:
        return None
    return {"type": label, "geometry": geom, "shape": shape, "meta": meta or None,
            "score": float(score) if isinstance(score, (int, float)) else None, "description": desc}


# --- writing -----------------------------------------------------------------------------------


def write(path, annotations, images, types, **_) -> dict:
    root = Path(path)
    out = root if root.suffix.lower() == ".json" else root / "annotations" / "default.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tinfo = type_info(types)
    ann = annotations
    if "deleted" in ann:
        ann = ann[~ann["deleted"].fillna(False).astype(bool)]
    labels = []
    for name, row in tinfo.items():
        lb = source_label(row, name)
        if lb not in labels:
            labels.append(lb)
    for t in (ann["type"] if len(ann) else []):
        lb = source_label(tinfo.get(t), t)
        if lb not in labels:
            labels.append(lb)
    lid = {n: i for i, n in enumerate(labels)}
    points_cats = []
    for name, row in tinfo.items():
        if row.get("vector_type") == "point" and (row["meta"].get("keypoints") or row["meta"].get("skeleton")):
            points_cats.append({"label_id": lid[source_label(row, name)], "labels": row["meta"].get("keypoints", []),
                                "joints": row["meta"].get("skeleton", [])})
    groups = {iid: g for iid, g in ann.groupby("image_id", sort=False)} if len(ann) else {}
    items = []
    for im in images.to_dict("records"):
        m = meta_of(im.get("meta"))
        g = groups.get(im["image_id"])
        anns = []
        for n, row in enumerate(g.itertuples(index=False) if g is not None else []):
            out_ = _annotation_out(n, row, lid[source_label(tinfo.get(row.type), row.type)])
            anns.extend(out_ if isinstance(out_, list) else [out_])
        image = {"path": im["name"]}
        if not is_missing(im.get("width")) and not is_missing(im.get("height")):
            image["size"] = [int(im["height"]), int(im["width"])]
        items.append({"id": m.get("datumaro_id", Path(im["name"]).stem), "annotations": anns, "image": image,
                      **({"attr": m["attr"]} if m.get("attr") else {})})
    cats = {"label": {"labels": [{"name": n, "parent": "", "attributes": []} for n in labels], "attributes": []}}
    if points_cats:
        cats["points"] = {"items": points_cats}
    dump_json({"info": {}, "categories": cats, "items": items}, out, indent=True)
    return {"files": [str(out)], "exported": int(len(ann)), "skipped": 0, "warnings": []}


def _annotation_out(n, row, label_id):
    meta = meta_of(row.meta)
    a = {"id": meta.get("datumaro_id", n), "type": None, "attributes": dict(meta.get("attributes", {})),
         "group": meta.get("group", 0), "label_id": label_id}
    if "z_order" in meta:
        a["z_order"] = meta["z_order"]
    if not is_missing(row.score):
        a["attributes"]["score"] = float(row.score)
    g, vt = row.geometry, row.vector_type
    if vt == "global":
        if isinstance(row.description, str) and row.description:
            a.update(type="caption", caption=row.description)
        else:
            a["type"] = "label"
    elif vt in ("box", "fixed_box") or (meta.get("shape") == "box" and G.is_rectangle(g)):
        x0, y0, x1, y1 = g.bounds
        a.update(type="bbox", bbox=[x0, y0, x1 - x0, y1 - y0])
    elif vt == "ellipse":
        x0, y0, x1, y1 = g.bounds
        a.update(type="ellipse", points=[x0, y0, x1, y1])
    elif vt == "mask" and "rle" in meta:
        a.update(type="mask", rle=meta["rle"])
    elif vt in ("polygon", "mask"):
        polys = G.polygons_of(g)
        a.update(type="polygon", points=G.flat_from_coords(G.exterior_coords(polys[0])))
        if len(polys) > 1:  # one Datumaro polygon per part, tied together by their group
            a["group"] = a["group"] or int(1000000 + n)
            return [a] + [{**a, "points": G.flat_from_coords(G.exterior_coords(p))} for p in polys[1:]]
    elif vt in ("line", "polyline"):
        a.update(type="polyline", points=G.flat_from_coords(shapely.get_coordinates(g)))
    elif vt == "point":
        pts = shapely.get_coordinates(g)
        vis = meta.get("visibility")
        if vis and len(vis) != len(pts):
            full, it = [], iter(pts.tolist())
            for v in vis:
                full += next(it) if v > 0 else [0.0, 0.0]
            a.update(type="points", points=full, visibility=vis)
        else:
            a.update(type="points", points=G.flat_from_coords(pts), visibility=vis or [2] * len(pts))
    return a
