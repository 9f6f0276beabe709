"""CVAT for images, XML 1.1: box, polygon, polyline, points, ellipse, mask, tag, with per-shape
attributes, occlusion and z-order kept in meta.

Rotations (box and ellipse ``rotation``) stay in meta["rotation"] in degrees, the geometry being
the unrotated rectangle, as EXACT stores ellipses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import shapely

from . import _geometry as G
from ._checks import MAX_INT32, checked_box, finite_geometry, image_size, integer, number, polygon
from ._common import UNCLASSIFIED, Parsed, fail, fmt, image_table, is_missing, meta_of, parse_xml, source_label, table, type_info
from ._masks import check_mask_size

_SHAPES = ("box", "polygon", "polyline", "points", "ellipse", "mask", "tag", "cuboid", "skeleton")


def read(path, *, images=None, **_) -> Parsed:
    root = parse_xml(path)
    if root.tag != "annotations":
        raise fail(path, f"<{root.tag}>", "expected the root element <annotations> of CVAT XML 1.1")
    version = root.findtext("version")
    warnings = []
    if version and version.strip() != "1.1":
        warnings.append(f"CVAT XML version {version.strip()} read as 1.1")
    hints = _labels(root)
    rows, img_rows = [], []
    elements = list(root.iter("image"))
    for k, im in enumerate(elements):
        if not im.get("name"):
            raise fail(path, f"<image> #{k + 1}", "expected a 'name' attribute")
    # a project export repeats file names across subsets: those keep their subset as a folder
    refs = [f"{im.get('subset')}/{im.get('name')}" if im.get("subset") else im.get("name") for im in elements]
    bases = [im.get("name") for im in elements]
    clash = {b for b in bases if bases.count(b) > 1}
    names = [r if b in clash else b for r, b in zip(refs, bases)]
    if clash:
        warnings.append(f"{len(clash)} image name(s) repeat across subsets; those images are named subset/name")
    for im, name in zip(elements, names):
        w, h = _size_attr(path, im, "width"), _size_attr(path, im, "height")
        meta = {key: im.get(key) for key in ("id", "subset", "task_id") if im.get(key) is not None}
        img_rows.append({"name": name, "width": w, "height": h, "meta": meta or None})
        for child in im:
            if child.tag not in _SHAPES:
                continue
            where = f"<image name={name!r}> <{child.tag}> #{len(rows) + 1}"
            row = _shape(path, where, child, w, h)
            if row is None:
                warnings.append(f"{where}: CVAT {child.tag} shapes are not supported; skipped")
                continue
            row["image"] = name
            rows.append(row)
    skipped = sum(1 for w_ in warnings if "not supported" in w_)
    if any(r["type"] == UNCLASSIFIED for r in rows):
        warnings.append(f"shapes without a label imported as {UNCLASSIFIED!r}")
    return Parsed(annotations=table(rows), images=image_table(img_rows), types=hints,
                  warnings=warnings, skipped=skipped)


def _size_attr(path, el, key):
    return image_size(el.get(key), path, f"<{el.tag} {key}={el.get(key)!r}>")


def _labels(root) -> dict:
    hints = {}
    for lab in root.iter("label"):
        name = lab.findtext("name")
        if name is None:
            continue
        hint = {"meta": {}}
        color = (lab.findtext("color") or "").strip()
        if color.startswith("#") and len(color) == 7:
            hint["color"] = color
        specs = []
        for a in lab.iter("attribute"):
            specs.append({k: (a.findtext(k) or "") for k in ("name", "input_type", "default_value", "values", "mutable")
                          if a.find(k) is not None})
        if specs:
            hint["meta"]["cvat_attributes"] = specs
        hints.setdefault(name.strip() or UNCLASSIFIED, hint)
    return hints


def _floats(path, where, el, keys):
    out = []
    for k in keys:
        v = el.get(k)
        if v is None:
            raise fail(path, where, f"missing attribute {k!r}")
        try:
            out.append(float(v))
        except ValueError:
            raise fail(path, f"{where} {k}={v!r}", "expected a number") from None
    if not np.isfinite(out).all():
        raise fail(path, where, "expected finite coordinates")
    return out


def _points(path, where, text):
    if not text:
        raise fail(path, where, "missing attribute 'points'")
    try:
        pts = np.array([[float(v) for v in pair.split(",")] for pair in text.strip().split(";") if pair])
    except ValueError:
        raise fail(path, f"{where} points", f"expected 'x,y;x,y;...', got {text[:40]!r}") from None
    if pts.ndim != 2 or pts.shape[1] != 2 or not np.isfinite(pts).all():
        raise fail(path, f"{where} points", f"expected 'x,y;x,y;...', got {text[:40]!r}")
    return pts


def _shape(path, where, el, w, h):
    label = (el.get("label") or "").strip() or UNCLASSIFIED
    meta = {}
    attrs = {a.get("name"): (a.text or "") for a in el.findall("attribute")}
    if attrs:
        meta["attributes"] = attrs
    if el.get("occluded") == "1":
        meta["occluded"] = True
    for key in ("z_order", "group_id"):
        if el.get(key) not in (None, "0", ""):
            meta[key] = integer(el.get(key), path, f"{where} {key}={el.get(key)!r}", minimum=-MAX_INT32)
    if el.get("source") not in (None, "manual"):
        meta["cvat_source"] = el.get("source")
    rot = number(el.get("rotation") or 0, path, f"{where} rotation={el.get('rotation')!r}", what="an angle")
    if rot:
        meta["rotation"] = rot
    tag = el.tag
    if tag == "box":
        x0, y0, x1, y1 = _floats(path, where, el, ("xtl", "ytl", "xbr", "ybr"))
        if x1 <= x0 or y1 <= y0:
            raise fail(path, where, "expected xtl < xbr and ytl < ybr")
        geom, shape = checked_box(path, where, x0, y0, x1, y1), "box"
    elif tag == "ellipse":
        cx, cy, rx, ry = _floats(path, where, el, ("cx", "cy", "rx", "ry"))
        if rx == 0 or ry == 0:
            raise fail(path, where, "expected an ellipse with non-zero radii rx and ry")
        geom, shape = finite_geometry(G.ellipse_from_center(cx, cy, rx, ry), path, where), "ellipse"
    elif tag == "polygon":
        pts = _points(path, where, el.get("points"))
        if len(pts) < 3:
            raise fail(path, where, "expected a polygon of at least 3 points")
        geom, shape = polygon([pts], path, f"{where} points"), "polygon"
    elif tag == "polyline":
        pts = _points(path, where, el.get("points"))
        if len(pts) < 2:
            raise fail(path, where, "expected a polyline of at least 2 points")
        geom, shape = shapely.LineString(pts), "line" if len(pts) == 2 else "polyline"
    elif tag == "points":
        pts = _points(path, where, el.get("points"))
        geom = shapely.Point(pts[0]) if len(pts) == 1 else shapely.MultiPoint(pts)
        shape = "point"
    elif tag == "tag":
        geom, shape = None, "global"
    elif tag == "mask":
        geom, shape, rle = _mask(path, where, el, w, h)
        if rle is not None:
            meta["rle"] = rle
    else:
        return None
    return {"type": label, "geometry": geom, "shape": shape, "meta": meta or None}


def _mask(path, where, el, w, h):
    """CVAT 2 masks: run lengths (background first, row-major) inside [left, top, width, height]."""
    left, top, width, height = (integer(el.get(k), path, f"{where} {k}={el.get(k)!r}", minimum=int(k in ("width", "height")))
                                for k in ("left", "top", "width", "height"))
    full_w, full_h = (w or left + width), (h or top + height)
    if left + width > full_w or top + height > full_h:
        raise fail(path, where, f"expected the mask inside the {full_w}x{full_h} image")
    check_mask_size(full_h, full_w, path, where)
    try:
        counts = [int(v) for v in (el.get("rle") or "").split(",") if v.strip()]
    except ValueError:
        raise fail(path, f"{where} rle", "expected comma-separated run lengths") from None
    if any(c < 0 for c in counts):
        raise fail(path, f"{where} rle", "expected non-negative run lengths")
    flat = np.zeros(width * height, dtype=bool)
    pos, val = 0, False
    for c in counts:
        flat[pos:pos + c] = val
        pos += c
        val = not val
    if pos != width * height:
        raise fail(path, f"{where} rle", f"run lengths add up to {pos}, expected width*height = {width * height}")
    mask = np.zeros((full_h, full_w), dtype=bool)
    mask[top:top + height, left:left + width] = flat.reshape(height, width)
    geom = G.mask_to_geometry(mask)
    if geom is None:
        raise fail(path, where, "the mask is empty")
    return geom, "mask", G.rle_encode(mask)


# --- writing -----------------------------------------------------------------------------------


def write(path, annotations, images, types, **_) -> dict:
    path = Path(path)
    out = path if path.suffix.lower() == ".xml" else path / "annotations.xml"
    out.parent.mkdir(parents=True, exist_ok=True)
    tinfo = type_info(types)
    ann = annotations
    root = ET.Element("annotations")
    ET.SubElement(root, "version").text = "1.1"
    task = ET.SubElement(ET.SubElement(root, "meta"), "task")
    labels_el = ET.SubElement(task, "labels")
    seen = set()
    for name, row in tinfo.items():
        lb = source_label(row, name)
        if lb in seen or lb == UNCLASSIFIED:
            continue
        seen.add(lb)
        le = ET.SubElement(labels_el, "label")
        ET.SubElement(le, "name").text = lb
        if isinstance(row.get("color"), str):
            ET.SubElement(le, "color").text = row["color"]
        specs = row["meta"].get("cvat_attributes")
        if specs:
            ae = ET.SubElement(le, "attributes")
            for spec in specs:
                a = ET.SubElement(ae, "attribute")
                for k, v in spec.items():
                    ET.SubElement(a, k).text = v
    by_image = {iid: grp for iid, grp in ann.groupby("image_id", sort=False)} if len(ann) else {}
    warnings = []
    written = 0
    for k, im in enumerate(images.to_dict("records")):
        m = meta_of(im.get("meta"))
        name = im["name"]
        if m.get("subset") and name.startswith(f"{m['subset']}/"):
            name = name[len(m["subset"]) + 1:]
        attrs = {"id": str(m.get("id", k)), "name": name}
        if not is_missing(im.get("width")):
            attrs["width"] = str(int(im["width"]))
        if not is_missing(im.get("height")):
            attrs["height"] = str(int(im["height"]))
        if m.get("subset"):
            attrs["subset"] = str(m["subset"])
        ie = ET.SubElement(root, "image", attrs)
        grp = by_image.get(im["image_id"])
        if grp is None:
            continue
        for row in grp.itertuples(index=False):
            written += _shape_out(ie, row, tinfo, warnings)
    ET.indent(root)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return {"files": [str(out)], "exported": written, "skipped": int(len(ann) - written), "warnings": warnings}


def _pts(coords) -> str:
    return ";".join(f"{fmt(x)},{fmt(y)}" for x, y in np.asarray(coords)[:, :2])


def _shape_out(parent, row, tinfo, warnings) -> int:
    meta = meta_of(row.meta)
    label = source_label(tinfo.get(row.type), row.type)
    attrs = {"label": "" if label == UNCLASSIFIED else label}
    if meta.get("occluded"):
        attrs["occluded"] = "1"
    else:
        attrs["occluded"] = "0"
    for key in ("z_order", "group_id"):
        if key in meta:
            attrs[key] = str(meta[key])
    if meta.get("cvat_source"):
        attrs["source"] = meta["cvat_source"]
    vt, g = row.vector_type, row.geometry
    els = []
    if vt in ("box", "fixed_box") or (meta.get("shape") == "box" and G.is_rectangle(g)):
        x0, y0, x1, y1 = g.bounds
        a = {**attrs, "xtl": fmt(x0), "ytl": fmt(y0), "xbr": fmt(x1), "ybr": fmt(y1)}
        if meta.get("rotation"):
            a["rotation"] = fmt(meta["rotation"])
        els.append(("box", a))
    elif vt == "ellipse":
        x0, y0, x1, y1 = g.bounds
        a = {**attrs, "cx": fmt((x0 + x1) / 2), "cy": fmt((y0 + y1) / 2), "rx": fmt((x1 - x0) / 2), "ry": fmt((y1 - y0) / 2)}
        if meta.get("rotation"):
            a["rotation"] = fmt(meta["rotation"])
        els.append(("ellipse", a))
    elif vt in ("polygon", "mask"):
        for ring in G.exterior_rings(g, row.image, "CVAT", "polygon", warnings):
            els.append(("polygon", {**attrs, "points": _pts(ring)}))
    elif vt in ("line", "polyline"):
        lines = list(g.geoms) if g.geom_type == "MultiLineString" else [g]
        for ln in lines:
            els.append(("polyline", {**attrs, "points": _pts(ln.coords)}))
    elif vt == "point":
        els.append(("points", {**attrs, "points": _pts(shapely.get_coordinates(g))}))
    elif vt == "global":
        els.append(("tag", {"label": attrs["label"]}))
    for tag, a in els:
        e = ET.SubElement(parent, tag, a)
        for k, v in (meta.get("attributes") or {}).items():
            ET.SubElement(e, "attribute", {"name": str(k)}).text = str(v)
    return 1 if els else 0
