"""Datumaro JSON (``annotations/<subset>.json``): label, bbox, polygon, polyline, points, mask
(RLE), ellipse and caption annotations; attributes, group and z-order kept in meta."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from . import _geometry as G
from ._checks import checked_box, image_size, integer, json_object, number, points, polygon, text
from ._common import (
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
    unique_names,
)
from ._masks import mask_from_rle


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
            img = _media(f, f"items[{i}]", it)
            ref = text(img.get("path"), f, f"items[{i}].image.path", what="an image path") or \
                text(it["id"], f, f"items[{i}].id", what="an item id")
            if not ref:
                raise fail(f, f"items[{i}].id", "expected an item id or an image path")
            refs.append(ref)
    names, warnings = unique_names(refs)
    rows, imgs, hints = [], [], {}
    k = 0
    for f, data in docs:
        labels = _labels(f, data, hints)
        subset = f.stem
        for i, it in enumerate(data["items"]):
            name = names[k]
            k += 1
            img = _media(f, f"items[{i}]", it)
            h, w = _size(f, f"items[{i}].image.size", img.get("size"))
            if it.get("attr") is not None and not isinstance(it["attr"], dict):
                raise fail(f, f"items[{i}].attr", "expected an object")
            imgs.append({"name": name, "width": w, "height": h,
                         "meta": {"datumaro_id": it["id"], "subset": subset, **({"attr": it["attr"]} if it.get("attr") else {})}})
            anns = it.get("annotations") or []
            if not isinstance(anns, list):
                raise fail(f, f"items[{i}].annotations", "expected a list of annotations")
            for j, a in enumerate(anns):
                row = _annotation(f, f"items[{i}].annotations[{j}]", a, labels, w, h)
                if row is None:
                    warnings.append(f"{f.name} items[{i}].annotations[{j}]: type {a.get('type')!r} not supported; skipped")
                    continue
                row["image"] = name
                rows.append(row)
    skipped = sum(1 for x in warnings if "not supported" in x)
    return Parsed(annotations=table(rows), images=image_table(imgs), types=hints, warnings=warnings, skipped=skipped,
                  searched=searched_folder(p, files, "Datumaro"))


def _media(f, where, item) -> dict:
    img = item.get("image") or item.get("media") or {}
    if not isinstance(img, dict):
        raise fail(f, f"{where}.image", "expected an object with 'path' and 'size'")
    return img


def _size(f, where, size):
    """Datumaro's image size is [height, width]."""
    if size is None:
        return None, None
    if not isinstance(size, list) or len(size) != 2:
        raise fail(f, where, f"expected [height, width], got {str(size)[:40]}")
    return image_size(size[0], f, where), image_size(size[1], f, where)


def _labels(f, data, hints) -> list[str]:
    cats = json_object(data.get("categories"), f, "categories")
    lab = json_object(cats.get("label"), f, "categories.label")
    entries = lab.get("labels") or []
    if not isinstance(entries, list):
        raise fail(f, "categories.label.labels", "expected a list of labels")
    labels = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "name" not in entry:
            raise fail(f, f"categories.label.labels[{i}]", "expected an object with a 'name'")
        name = text(entry["name"], f, f"categories.label.labels[{i}].name", what="a label name")
        labels.append(name)
        meta = {}
        if entry.get("parent"):
            meta["parent"] = entry["parent"]
        if entry.get("attributes"):
            meta["attributes_spec"] = entry["attributes"]
        hints.setdefault(name, {"meta": meta})
    items = json_object(cats.get("points"), f, "categories.points").get("items") or []
    for i, item in enumerate(items if isinstance(items, list) else []):
        where = f"categories.points.items[{i}]"
        item = json_object(item, f, where)
        lid = item.get("label_id")
        if isinstance(lid, int) and 0 <= lid < len(labels):
            names, joints = item.get("labels") or [], item.get("joints") or []
            if not isinstance(names, list) or not isinstance(joints, list):
                raise fail(f, where, "expected 'labels' and 'joints' as lists")
            h = hints[labels[lid]]
            h["vector_type"] = "point"
            h["meta"]["keypoints"] = names
            h["meta"]["skeleton"] = joints
            if names:
                h["node_count"] = len(names)
    return labels


def _flat_points(f, where, a, minimum):
    pts = a.get("points")
    if not isinstance(pts, list) or len(pts) % 2 or len(pts) < 2 * minimum:
        raise fail(f, f"{where}.points", f"expected [x1, y1, x2, y2, ...] with at least {minimum} points")
    return points(pts, f, f"{where}.points", minimum=minimum)


def _annotation(f, where, a, labels, w, h):
    if not isinstance(a, dict) or "type" not in a:
        raise fail(f, where, "expected an annotation object with a 'type'")
    t = a["type"]
    lid = a.get("label_id")
    if lid is None:
        label = "unlabeled"
    elif isinstance(lid, bool) or not isinstance(lid, int) or not 0 <= lid < len(labels):
        raise fail(f, f"{where}.label_id", f"unknown class: label id {lid!r} is not in categories.label ({len(labels)} labels)")
    else:
        label = labels[lid]
    meta = {}
    attrs = json_object(a.get("attributes"), f, f"{where}.attributes")
    if attrs:
        meta["attributes"] = dict(attrs)
    for key in ("group", "z_order", "id"):
        if a.get(key):
            meta[f"datumaro_{key}" if key == "id" else key] = a[key]
    score = attrs.get("score")
    score = None if score is None else number(score, f, f"{where}.attributes.score", what="a score")
    desc = None
    if t == "label":
        geom, shape = None, "global"
    elif t == "caption":
        geom, shape = None, "global"
        desc = text(a.get("caption"), f, f"{where}.caption", what="a caption")
    elif t == "bbox":
        b = a.get("bbox")
        if not isinstance(b, list) or len(b) != 4:
            raise fail(f, f"{where}.bbox", "expected [x, y, width, height]")
        x, y, bw, bh = (number(v, f, f"{where}.bbox") for v in b)
        if bw <= 0 or bh <= 0:
            raise fail(f, f"{where}.bbox", "expected positive width and height")
        geom, shape = checked_box(f, f"{where}.bbox", x, y, x + bw, y + bh), "box"
    elif t == "polygon":
        geom, shape = polygon([_flat_points(f, where, a, 3)], f, f"{where}.points"), "polygon"
    elif t == "polyline":
        pts = _flat_points(f, where, a, 2)
        geom, shape = shapely.LineString(pts), "line" if len(pts) == 2 else "polyline"
    elif t == "points":
        pts = _flat_points(f, where, a, 1)
        vis = a.get("visibility")
        if vis:
            if not isinstance(vis, list):
                raise fail(f, f"{where}.visibility", "expected a list of visibility flags")
            vis = [integer(v, f, f"{where}.visibility", what="a visibility flag", maximum=2) for v in vis]
            meta["visibility"] = vis
            pts = pts[np.asarray(vis) > 0] if len(vis) == len(pts) else pts
        if len(pts) == 0:
            return None
        geom, shape = (shapely.Point(pts[0]) if len(pts) == 1 else shapely.MultiPoint(pts)), "point"
    elif t == "ellipse":
        pts = _flat_points(f, where, a, 2)
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        geom, shape = checked_box(f, f"{where}.points", x0, y0, x1, y1), "ellipse"
    elif t == "mask":
        geom, meta["rle"] = mask_from_rle(a.get("rle"), f, f"{where}.rle")
        shape = "mask"
    else:
        return None
    return {"type": label, "geometry": geom, "shape": shape, "meta": meta or None, "score": score,
            "description": desc}


# --- writing -----------------------------------------------------------------------------------


def write(path, annotations, images, types, **_) -> dict:
    root = Path(path)
    out = root if root.suffix.lower() == ".json" else root / "annotations" / "default.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    tinfo = type_info(types)
    ann = annotations
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
