"""COCO JSON: instances (boxes, polygons, RLE masks), keypoints with their skeleton, and model
results lists (``[{image_id, category_id, bbox, score}, ...]``).

Big files take a vectorised path: boxes are built with one ``shapely.box`` call on arrays, and
rows get a meta dict only when they carry something beyond the box.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from . import _geometry as G
from ._checks import image_size, number, plausible, points, polygon, text
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
from ._masks import mask_from_rle

# Annotation keys the reader turns into columns; anything else is kept in meta["coco"].
_KNOWN = frozenset({"id", "image_id", "category_id", "bbox", "segmentation", "area", "iscrowd",
                    "keypoints", "num_keypoints", "score", "attributes"})
# Rows with only these keys (and no crowd flag) need no meta at all.
_PLAIN_KEYS = _KNOWN - {"attributes"}


def read(path, *, images=None, gt=None, categories=None, source=None, known_types=None, **_) -> Parsed:
    data = load_json(path)
    warnings: list[str] = []
    if isinstance(data, list):
        return _read_results(path, data, images, gt, categories, source, known_types, warnings)
    if not isinstance(data, dict):
        raise fail(path, "top level", f"expected a JSON object or a results list, got {type(data).__name__}")
    anns = _list(path, data, "annotations")
    imgs = _list(path, data, "images")
    cats = _list(path, data, "categories")
    cat_names, hints = _categories(path, cats, warnings)
    img_names, img_table = _images(path, imgs, warnings)
    parsed = _annotations(path, anns, cat_names, img_names, warnings, key="annotations")
    parsed.images = img_table
    parsed.types = hints
    return parsed


def _list(path, data, key):
    value = data.get(key, [])
    if not isinstance(value, list):
        raise fail(path, f"key {key!r}", f"expected a list, got {type(value).__name__}")
    return value


def _categories(path, cats, warnings):
    names: dict = {}
    hints: dict = {}
    for i, c in enumerate(cats):
        if not isinstance(c, dict) or "id" not in c or "name" not in c:
            raise fail(path, f"categories[{i}]", "expected an object with 'id' and 'name'")
        _check_id(path, f"categories[{i}].id", c["id"])
        name = text(c["name"], path, f"categories[{i}].name", what="a category name")
        if name in hints:
            warnings.append(f"categories {hints[name]['meta']['coco_id']} and {c['id']} share the name {name!r}; merged")
        names[c["id"]] = name
        meta = {"coco_id": c["id"]}
        if c.get("supercategory"):
            meta["supercategory"] = c["supercategory"]
        hint = {"meta": meta}
        kp_names = c.get("keypoints")
        if not isinstance(kp_names, (list, type(None))) or not isinstance(c.get("skeleton"), (list, type(None))):
            raise fail(path, f"categories[{i}]", "expected 'keypoints' and 'skeleton' as lists")
        if kp_names or c.get("skeleton"):
            meta["keypoints"] = list(kp_names or [])
            meta["skeleton"] = c.get("skeleton") or []
            hint["vector_type"] = "point"
            if kp_names:
                hint["node_count"] = len(kp_names)
        hints.setdefault(name, hint)
    return names, hints


def _images(path, imgs, warnings):
    ids, files, widths, heights = [], [], [], []
    for i, im in enumerate(imgs):
        if not isinstance(im, dict) or "id" not in im or "file_name" not in im:
            raise fail(path, f"images[{i}]", "expected an object with 'id' and 'file_name'")
        ids.append(_check_id(path, f"images[{i}].id", im["id"]))
        name = text(im["file_name"], path, f"images[{i}].file_name", what="a file name")
        if not name:
            raise fail(path, f"images[{i}].file_name", "expected a file name")
        files.append(name)
        widths.append(image_size(im.get("width"), path, f"images[{i}].width"))
        heights.append(image_size(im.get("height"), path, f"images[{i}].height"))
    names, w = unique_names(files)
    warnings.extend(w)
    metas = [
        {"coco_id": i, **({"file_name": f} if f != n else {})} for i, f, n in zip(ids, files, names)
    ]
    img_table = image_table(
        [{"name": n, "width": wd, "height": ht, "meta": m} for n, wd, ht, m in zip(names, widths, heights, metas)]
    )
    return dict(zip(ids, names)), img_table


def _check_id(path, where, value):
    """COCO ids are integers (some tools write text): anything else cannot be looked up."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise fail(path, where, f"expected an integer id, got {str(value)[:40]}")
    return value


def _column(path, anns, key, where, *, required=True):
    try:
        return [a[key] for a in anns] if required else [a.get(key) for a in anns]
    except (KeyError, TypeError, AttributeError):
        for i, a in enumerate(anns):
            if not isinstance(a, dict):
                raise fail(path, f"{where}[{i}]", f"expected an object, got {type(a).__name__}") from None
            if key not in a:
                raise fail(path, f"{where}[{i}]", f"missing key {key!r}") from None
        raise


def _annotations(path, anns, cat_names, img_names, warnings, *, key, scores=False) -> Parsed:
    n = len(anns)
    img_ids = _column(path, anns, "image_id", key)
    cat_ids = _column(path, anns, "category_id", key)
    # Resolve references the file itself must be able to resolve.
    try:
        image = [img_names[i] for i in img_ids]
    except (KeyError, TypeError):
        i = next(j for j, v in enumerate(img_ids) if _unhashable_or_missing(v, img_names))
        raise fail(path, f"{key}[{i}].image_id", f"image id {img_ids[i]!r} is not in 'images'") from None
    try:
        cls = [cat_names[c] for c in cat_ids]
    except (KeyError, TypeError):
        i = next(j for j, v in enumerate(cat_ids) if _unhashable_or_missing(v, cat_names))
        raise fail(
            path, f"{key}[{i}].category_id",
            f"unknown class: category id {cat_ids[i]!r} is not in 'categories'",
        ) from None

    bboxes = [a.get("bbox") for a in anns]
    segs = [a.get("segmentation") for a in anns]
    kps = [a.get("keypoints") for a in anns]
    geoms = np.empty(n, dtype=object)
    shapes = np.empty(n, dtype=object)
    metas = np.empty(n, dtype=object)

    has_seg = np.fromiter((bool(s) for s in segs), bool, n)
    has_kp = np.fromiter((bool(k) for k in kps), bool, n)
    plain = ~has_seg & ~has_kp
    idx_plain = np.flatnonzero(plain)
    lazy = None
    if len(idx_plain) == n and n >= _LAZY_FROM:
        # every row a plain box: keep the corners, build shapes only if someone asks (Parsed)
        lazy = _box_corners(path, key, bboxes, idx_plain)
        shapes[:] = "box"
        if ((lazy[:, 2] == lazy[:, 0]) | (lazy[:, 3] == lazy[:, 1])).any():
            lazy = None
    if lazy is None and len(idx_plain):
        geoms[idx_plain], shapes[idx_plain] = _boxes(path, key, bboxes, idx_plain, warnings)
    for i in np.flatnonzero(~plain):
        a = anns[i]
        kp = _keypoints(path, f"{key}[{i}]", a) if has_kp[i] else None
        if kp is not None:
            geoms[i], metas[i] = kp
            shapes[i] = "point"
        elif has_seg[i]:
            geoms[i], shapes[i], metas[i] = _segmentation(path, f"{key}[{i}]", a)
        else:  # keypoints all unlabelled: the box is what the annotation holds
            g, s = _boxes(path, key, bboxes, np.array([i]), warnings)
            geoms[i], shapes[i] = g[0], s[0]
    _extra_meta(path, key, anns, shapes, metas)
    cols = {
        "image": image, "type": cls, "geometry": geoms, "shape": shapes, "meta": metas,
    }
    if scores or any("score" in a for a in anns):
        cols["score"] = [None if a.get("score") is None else number(a["score"], path, f"{key}[{i}].score")
                         for i, a in enumerate(anns)]
    return Parsed(annotations=table(cols), images=image_table([]), warnings=warnings, boxes=lazy)


def _extra_meta(path, key, anns, shapes, metas) -> None:
    """Meta for anything beyond the geometry: attributes, crowd flags, unknown keys (in place; an
    ellipse written by exact-lab as its box with ``exact_shape`` becomes an ellipse again)."""
    only_plain_keys = _PLAIN_KEYS.issuperset  # a bound method: the fastest per-dict key test
    extra = [i for i, a in enumerate(anns) if not only_plain_keys(a) or a.get("iscrowd")]
    for i in extra:
        a = anns[i]
        m = dict(metas[i] or {})
        if a.get("attributes"):
            if not isinstance(a["attributes"], dict):
                raise fail(path, f"{key}[{i}].attributes", "expected an object of attribute names and values")
            attrs = dict(a["attributes"])
            if attrs.pop("exact_shape", None) == "ellipse" and shapes[i] == "box":
                shapes[i] = "ellipse"
                if attrs.get("rotation"):
                    m["rotation"] = attrs.pop("rotation")
                attrs.pop("rotation", None)
            if attrs:
                m["attributes"] = attrs
        if a.get("iscrowd"):
            m["iscrowd"] = a["iscrowd"]
        rest = {k: v for k, v in a.items() if k not in _KNOWN}
        if rest:
            m["coco"] = {**m.get("coco", {}), **rest}
        metas[i] = m or None


def _unhashable_or_missing(v, mapping):
    try:
        return v not in mapping
    except TypeError:
        return True


_LAZY_FROM = 10_000  # rows; below that building the shapes costs nothing worth saving


def _box_corners(path, key, bboxes, idx):
    """(n, 4) xmin, ymin, xmax, ymax of COCO [x, y, w, h] boxes, checked."""
    arr = _bbox_array(path, key, bboxes, idx)
    out = arr.copy()
    out[:, 2] += arr[:, 0]
    out[:, 3] += arr[:, 1]
    _finite_corners(path, key, idx, out, bboxes)
    return out


def _finite_corners(path, key, idx, corners, bboxes):
    """Corners that are pixel coordinates (x + width can overflow where x and width did not)."""
    bad = ~plausible(corners).all(axis=1)
    if bad.any():
        j = idx[int(np.argmax(bad))]
        raise fail(path, f"{key}[{j}].bbox", f"expected a box whose corners are finite pixel coordinates, got {bboxes[j]}")


def _bbox_array(path, key, bboxes, idx):
    sub = [bboxes[i] for i in idx]
    try:
        arr = np.asarray(sub, dtype=float)
        ok = arr.ndim == 2 and arr.shape[1] == 4
    except (ValueError, TypeError):
        ok = False
    if not ok:
        for j, b in zip(idx, sub):
            if b is None:
                raise fail(path, f"{key}[{j}]", "expected a 'bbox' or a 'segmentation'")
            if not isinstance(b, (list, tuple)) or len(b) != 4:
                raise fail(path, f"{key}[{j}].bbox", f"expected [x, y, width, height], got {str(b)[:60]}")
            for v in b:
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise fail(path, f"{key}[{j}].bbox", f"expected numbers, got {v!r}")
        arr = np.asarray(sub, dtype=float)
    bad = ~np.isfinite(arr).all(axis=1) | (arr[:, 2] < 0) | (arr[:, 3] < 0)
    if bad.any():
        j = idx[int(np.argmax(bad))]
        raise fail(path, f"{key}[{j}].bbox", f"expected finite x, y and non-negative width, height, got {bboxes[j]}")
    return arr


def _boxes(path, key, bboxes, idx, warnings):
    arr = _bbox_array(path, key, bboxes, idx)
    x, y, w, h = arr.T
    _finite_corners(path, key, idx, np.column_stack([x, y, x + w, y + h]), bboxes)
    geoms = shapely.box(x, y, x + w, y + h)
    shapes = np.full(len(idx), "box", dtype=object)
    flat = (w == 0) | (h == 0)
    if flat.any():
        # A zero-size box cannot be a box; keep it as the point or line it really is.
        for j in np.flatnonzero(flat):
            if w[j] == 0 and h[j] == 0:
                geoms[j], shapes[j] = shapely.Point(x[j], y[j]), "point"
            else:
                geoms[j], shapes[j] = shapely.LineString([(x[j], y[j]), (x[j] + w[j], y[j] + h[j])]), "line"
        warnings.append(f"{int(flat.sum())} zero-size box(es) imported as points or lines")
    return geoms, shapes


def _segmentation(path, where, a):
    seg = a["segmentation"]
    if isinstance(seg, list):
        rings = []
        for k, part in enumerate(seg):
            if not isinstance(part, list) or len(part) < 6 or len(part) % 2:
                raise fail(path, f"{where}.segmentation[{k}]",
                           "expected a polygon [x1, y1, x2, y2, x3, y3, ...] with an even count >= 6")
            rings.append(points(part, path, f"{where}.segmentation[{k}]", minimum=3))
        return polygon(rings, path, f"{where}.segmentation"), "polygon", None
    if isinstance(seg, dict):
        geom, rle = mask_from_rle(seg, path, f"{where}.segmentation")
        return geom, "mask", {"rle": rle}
    raise fail(path, f"{where}.segmentation", f"expected a polygon list or an RLE object, got {type(seg).__name__}")


def _keypoints(path, where, a):
    kp = a["keypoints"]
    if not isinstance(kp, list) or len(kp) % 3:
        raise fail(path, f"{where}.keypoints", "expected [x1, y1, v1, x2, y2, v2, ...]")
    arr = np.array([number(v, path, f"{where}.keypoints[{i}]") for i, v in enumerate(kp)]).reshape(-1, 3)
    vis = arr[:, 2].astype(int).tolist()
    labelled = arr[arr[:, 2] > 0][:, :2]
    meta = {"visibility": vis}
    coco = {}
    if a.get("bbox"):
        coco["bbox"] = a["bbox"]
    if a.get("segmentation"):
        coco["segmentation"] = a["segmentation"]
    if coco:
        meta["coco"] = coco
    if len(labelled) == 0:
        return None
    return (shapely.Point(labelled[0]) if len(labelled) == 1 else shapely.MultiPoint(labelled)), meta


def _read_results(path, data, images, gt, categories, source, known_types, warnings) -> Parsed:
    """A results list names images and categories by id only: resolve them through a ground-truth
    file (gt=), the ids the project recorded on an earlier COCO import, or categories=."""
    cat_names: dict = {}
    img_names: dict = {}
    hints: dict = {}
    img_table = image_table([])
    if gt is not None:
        g = load_json(gt)
        if not isinstance(g, dict):
            raise fail(gt, "top level", "expected a COCO object with 'images' and 'categories'")
        cat_names, hints = _categories(gt, _list(gt, g, "categories"), warnings)
        img_names, img_table = _images(gt, _list(gt, g, "images"), warnings)
    if categories:
        cat_names.update(categories)
    if known_types is not None and len(known_types):
        for name, m in zip(known_types["name"], known_types["meta"]):
            m = meta_of(m)
            if "coco_id" in m:
                cat_names.setdefault(m["coco_id"], name)
    if images is not None and len(images) and "meta" in images:
        for name, m in zip(images["name"], images["meta"]):
            m = meta_of(m)
            if "coco_id" in m:
                img_names.setdefault(m["coco_id"], name)
    for i, a in enumerate(data):
        if not isinstance(a, dict):
            raise fail(path, f"[{i}]", f"expected a result object, got {type(a).__name__}")
    missing_c = {a.get("category_id") for a in data} - set(cat_names)
    if missing_c:
        warnings.append(f"category ids {sorted(map(str, missing_c))[:5]} named by their id (no gt= file)")
        cat_names.update({c: f"category {c}" for c in missing_c})
    missing_i = {a.get("image_id") for a in data} - set(img_names)
    if missing_i:
        warnings.append(f"{len(missing_i)} image id(s) named by their id (no gt= file)")
        img_names.update({i: str(i) for i in missing_i})
    parsed = _annotations(path, data, cat_names, img_names, warnings, key="results", scores=True)
    parsed.lazy_annotations["source"] = source or Path(path).stem
    parsed.images = img_table
    parsed.types = hints
    return parsed


# --- writing -----------------------------------------------------------------------------------


def write(path, annotations, images, types, *, results=False, indent=False, **_) -> dict:
    path = Path(path)
    out = path if path.suffix.lower() == ".json" else path / "annotations.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    warnings: list[str] = []
    tinfo = type_info(types)
    ann = annotations
    # Categories: one per label (types split on import share their source label).
    cat_ids, categories = _categories_out(ann, tinfo)
    img_ids, image_list = _images_out(images, ann)
    vt = ann["vector_type"].to_numpy(dtype=object) if len(ann) else np.array([], dtype=object)
    skip = np.isin(vt, ["global", "line", "polyline"])
    if skip.any():
        kinds = pd.Series(vt[skip]).value_counts().to_dict()
        warnings.append(f"COCO has no {' / '.join(kinds)} annotations: {int(skip.sum())} not written ({kinds})")
    ann = ann[~skip]
    # per distinct value, not per row: a million rows have a handful of types and images
    codes, uniq = pd.factorize(ann["type"].to_numpy(dtype=object))
    cat = np.array([cat_ids[source_label(tinfo.get(t), t)] for t in uniq], dtype=np.int64)[codes]
    codes, uniq = pd.factorize(ann["image_id"].to_numpy())
    img = np.array([img_ids[i] for i in uniq], dtype=np.int64)[codes]
    out_anns = _annotations_out(ann, cat, img, tinfo, results)
    if results:
        dump_json(out_anns, out, indent=indent)
    else:
        dump_json({"info": {"description": "exported by exact-lab"}, "licenses": [],
                   "images": image_list, "categories": categories, "annotations": out_anns},
                  out, indent=indent)
    return {"files": [str(out)], "exported": len(out_anns), "skipped": int(skip.sum()), "warnings": warnings}


def _categories_out(ann, tinfo):
    present = list(dict.fromkeys(ann["type"])) if len(ann) else []
    order = sorted(tinfo.values(), key=lambda r: (r.get("sort_order") if not is_missing(r.get("sort_order")) else 1e9, r["name"]))
    names = [r["name"] for r in order if r["name"] in present] + [t for t in present if t not in tinfo]
    ids: dict = {}
    cats = []
    taken = set()
    for name in names:
        row = tinfo.get(name, {"meta": {}, "vector_type": None})
        label = source_label(row, name)
        if label in ids:
            continue
        want = row["meta"].get("coco_id")
        if not isinstance(want, int) or want in taken:
            want = max(taken | {0}) + 1
        taken.add(want)
        ids[label] = want
        c = {"id": want, "name": label, "supercategory": row["meta"].get("supercategory", "")}
        if row.get("vector_type") == "point":
            kp = row["meta"].get("keypoints")
            n = row.get("node_count")
            if not kp and not is_missing(n) and n:
                kp = [str(k + 1) for k in range(int(n))]
            c["keypoints"] = list(kp or [])
            c["skeleton"] = row["meta"].get("skeleton", [])
        cats.append(c)
    return ids, cats


def _images_out(images, ann):
    ids = {}
    out = []
    taken = set()
    rows = images.to_dict("records") if len(images) else []
    used = set(ann["image_id"]) if len(ann) else set()
    for r in rows:
        m = meta_of(r.get("meta"))
        want = m.get("coco_id")
        if not isinstance(want, int) or want in taken:
            want = None
        ids[r["image_id"]] = want
        if want is not None:
            taken.add(want)
    nxt = max(taken | {0}) + 1
    for r in rows:
        if ids[r["image_id"]] is None:
            ids[r["image_id"]] = nxt
            nxt += 1
        m = meta_of(r.get("meta"))
        w, h = r.get("width"), r.get("height")
        out.append({"id": ids[r["image_id"]], "file_name": m.get("file_name", r["name"]),
                    "width": int(w) if not is_missing(w) else 0, "height": int(h) if not is_missing(h) else 0})
    for i in used - set(ids):
        ids[i] = nxt
        nxt += 1
    return ids, out


def _annotations_out(ann, cat, img, tinfo, results):
    n = len(ann)
    vt = ann["vector_type"].to_numpy(dtype=object)
    metas = ann["meta"].to_numpy(dtype=object)
    scores = ann["score"].to_numpy(dtype=object) if "score" in ann else np.full(n, None)
    is_box = np.isin(vt, ["box", "fixed_box"])
    out: list = [None] * n
    # Fast path: boxes straight from the bbox columns, no geometry objects touched.
    bi = np.flatnonzero(is_box)
    if len(bi):
        x0 = ann["xmin"].to_numpy(float)[bi]
        y0 = ann["ymin"].to_numpy(float)[bi]
        w = ann["xmax"].to_numpy(float)[bi] - x0
        h = ann["ymax"].to_numpy(float)[bi] - y0
        area = w * h
        made = [{"id": i + 1, "image_id": im, "category_id": ct, "bbox": [a, b, c, d], "area": ar,
                 "iscrowd": 0, "segmentation": []}
                for i, im, ct, a, b, c, d, ar in zip(bi.tolist(), img[bi].tolist(), cat[bi].tolist(), x0.tolist(),
                                                     y0.tolist(), w.tolist(), h.tolist(), area.tolist())]
        if len(bi) == n:
            out = made
        else:
            for i, a in zip(bi.tolist(), made):
                out[i] = a
    geoms = ann["geometry"].to_numpy(dtype=object)
    for i in np.flatnonzero(~is_box):
        out[i] = _one_out(i, geoms[i], vt[i], meta_of(metas[i]), int(img[i]), int(cat[i]))
    has_score = ann["score"].notna().to_numpy() if "score" in ann else np.zeros(n, bool)
    extra = [i for i, m in enumerate(metas) if m] + np.flatnonzero(has_score).tolist()
    for i in sorted(set(extra)):
        m = metas[i]
        if isinstance(m, dict) and m:
            if m.get("attributes"):
                out[i].setdefault("attributes", {}).update(m["attributes"])
            if "coco" in m:
                for k, v in m["coco"].items():
                    if k not in ("bbox", "segmentation"):
                        out[i].setdefault(k, v)
        s = scores[i]
        if not is_missing(s):
            out[i]["score"] = float(s)
    if results:
        keep = ("image_id", "category_id", "bbox", "score", "segmentation", "keypoints")
        out = [{k: v for k, v in o.items() if k in keep and (k != "segmentation" or v)} for o in out]
    return out


def _one_out(i, geom, vt, meta, img, cat):
    a = {"id": int(i) + 1, "image_id": img, "category_id": cat, "iscrowd": int(meta.get("iscrowd", 0))}
    x0, y0, x1, y1 = geom.bounds
    a["bbox"] = [x0, y0, x1 - x0, y1 - y0]
    a["area"] = float(geom.area)
    if vt == "ellipse":
        a["segmentation"] = []
        a["area"] = float(np.pi * (x1 - x0) * (y1 - y0) / 4)
        a["attributes"] = {"exact_shape": "ellipse"}
        if meta.get("rotation"):
            a["attributes"]["rotation"] = meta["rotation"]
    elif vt == "point":
        pts = np.asarray(shapely.get_coordinates(geom))
        vis = meta.get("visibility") or [2] * len(pts)
        kp = []
        it = iter(pts.tolist())
        for v in vis:
            if v > 0:
                x, y = next(it, (0.0, 0.0))
                kp += [x, y, v]
            else:
                kp += [0, 0, 0]
        a["keypoints"] = kp
        a["num_keypoints"] = int(sum(1 for v in vis if v > 0))
        coco = meta.get("coco", {})
        a["bbox"] = coco.get("bbox", a["bbox"])
        a["segmentation"] = coco.get("segmentation", [])
        a["area"] = float(a["bbox"][2] * a["bbox"][3])
    elif meta.get("shape") == "box" and G.is_rectangle(geom):
        a["segmentation"] = []
    elif "rle" in meta:
        a["segmentation"] = dict(meta["rle"])
        if "iscrowd" not in meta:
            a["iscrowd"] = 0
        m = G.rle_decode(meta["rle"])
        a["area"] = float(m.sum())
    else:
        polys = G.polygons_of(geom)
        a["segmentation"] = [G.flat_from_coords(G.exterior_coords(p)) for p in polys]
    return a
