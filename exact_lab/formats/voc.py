"""Pascal VOC XML: one ``<annotation>`` file per image with ``<object>`` boxes.

Coordinates are taken as written (no 1-based shift), as LabelMe, CVAT and Datumaro write them.
Pose, truncated, difficult, occluded, parts and actions are kept in meta["voc"].
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ._checks import checked_box, image_size
from ._common import (
    Parsed,
    fail,
    fmt,
    image_table,
    is_missing,
    meta_of,
    parse_xml,
    searched_folder,
    source_label,
    table,
    type_info,
)


def read(path, *, images=None, **_) -> Parsed:
    p = Path(path)
    if p.is_dir():
        sub = p / "Annotations"
        files = sorted((sub if sub.is_dir() else p).glob("*.xml"))
        if not files:
            raise fail(p, None, "expected VOC .xml files (in Annotations/)")
    else:
        files = [p]
    rows, imgs, warnings = [], [], []
    for f in files:
        root = parse_xml(f)
        if root.tag != "annotation":
            raise fail(f, f"<{root.tag}>", "expected the root element <annotation> of Pascal VOC")
        name = (root.findtext("filename") or "").strip()
        if not name:
            name = f.stem + ".jpg"
            warnings.append(f"{f.name}: no <filename>; image named {name!r}")
        w = image_size(root.findtext("size/width"), f, "<size> <width>")
        h = image_size(root.findtext("size/height"), f, "<size> <height>")
        imgs.append({"name": name, "width": w, "height": h,
                     "meta": {"folder": root.findtext("folder")} if root.findtext("folder") else None})
        for k, obj in enumerate(root.findall("object")):
            where = f"<object> #{k + 1}"
            label = (obj.findtext("name") or "").strip()
            if not label:
                raise fail(f, f"{where} <name>", "expected a class name")
            bb = obj.find("bndbox")
            if bb is None:
                raise fail(f, where, "expected a <bndbox>")
            x0, y0, x1, y1 = (_num(f, bb, t, where=f"{where} <bndbox>") for t in ("xmin", "ymin", "xmax", "ymax"))
            if x1 <= x0 or y1 <= y0:
                raise fail(f, f"{where} <bndbox>", f"expected xmin < xmax and ymin < ymax, got {x0:g},{y0:g},{x1:g},{y1:g}")
            if w and h and (x0 < -1 or y0 < -1 or x1 > w + 1 or y1 > h + 1):
                raise fail(f, f"{where} <bndbox>", f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) lies outside the {int(w)}x{int(h)} image")
            voc = {}
            for key in ("pose", "truncated", "difficult", "occluded"):
                v = obj.findtext(key)
                if v is not None and v.strip():
                    voc[key] = v.strip()
            parts = [_part(f, p_) for p_ in obj.findall("part")]
            if parts:
                voc["parts"] = parts
            acts = obj.find("actions")
            if acts is not None:
                voc["actions"] = {a.tag: a.text.strip() for a in acts if a.text}
            attrs = obj.find("attributes")
            meta = {"voc": voc} if voc else {}
            if attrs is not None:
                meta["attributes"] = {a.findtext("name"): a.findtext("value") for a in attrs.findall("attribute")}
            rows.append({"image": name, "type": label, "geometry": checked_box(f, f"{where} <bndbox>", x0, y0, x1, y1),
                         "shape": "box", "meta": meta or None})
    return Parsed(annotations=table(rows), images=image_table(imgs), warnings=warnings,
                  searched=searched_folder(p, files, "Pascal VOC"))


def _num(path, el, tag, *, where=None, required=True):
    text = el.findtext(tag)
    if text is None or not text.strip():
        if required:
            raise fail(path, f"{where or ''} <{tag}>".strip(), "expected a number")
        return None
    try:
        v = float(text)
    except ValueError:
        raise fail(path, f"{where or ''} <{tag}>".strip(), f"expected a number, got {text.strip()[:30]!r}") from None
    if not np.isfinite(v):
        raise fail(path, f"{where or ''} <{tag}>".strip(), "expected a finite number")
    return v


def _part(path, el):
    bb = el.find("bndbox")
    return {"name": el.findtext("name"),
            "bndbox": [_num(path, bb, t) for t in ("xmin", "ymin", "xmax", "ymax")] if bb is not None else None}


def write(path, annotations, images, types, **_) -> dict:
    root = Path(path)
    out_dir = root / "Annotations"
    out_dir.mkdir(parents=True, exist_ok=True)
    tinfo = type_info(types)
    ann = annotations
    warnings = []
    vt = ann["vector_type"].to_numpy(dtype=object) if len(ann) else np.array([], dtype=object)
    ok = ~np.isin(vt, ["global", "point"])
    if (~ok).any():
        warnings.append(f"VOC holds boxes only: {int((~ok).sum())} point / global annotation(s) not written")
    shaped = np.isin(vt, ["polygon", "mask", "line", "polyline", "ellipse"]) & ok
    if shaped.any():
        warnings.append(f"{int(shaped.sum())} polygon / line / ellipse annotation(s) written as their bounding boxes")
    ann = ann[ok]
    groups = {iid: g for iid, g in ann.groupby("image_id", sort=False)} if len(ann) else {}
    files = []
    for im in images.to_dict("records"):
        a = ET.Element("annotation")
        m = meta_of(im.get("meta"))
        ET.SubElement(a, "folder").text = m.get("folder", "")
        ET.SubElement(a, "filename").text = im["name"]
        size = ET.SubElement(a, "size")
        ET.SubElement(size, "width").text = "" if is_missing(im.get("width")) else str(int(im["width"]))
        ET.SubElement(size, "height").text = "" if is_missing(im.get("height")) else str(int(im["height"]))
        ET.SubElement(size, "depth").text = "3"
        g = groups.get(im["image_id"])
        for row in (g.itertuples(index=False) if g is not None else []):
            meta = meta_of(row.meta)
            voc = meta.get("voc", {})
            o = ET.SubElement(a, "object")
            ET.SubElement(o, "name").text = source_label(tinfo.get(row.type), row.type)
            for key in ("pose", "truncated", "difficult", "occluded"):
                if key in voc:
                    ET.SubElement(o, key).text = str(voc[key])
            bb = ET.SubElement(o, "bndbox")
            for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), row.geometry.bounds):
                ET.SubElement(bb, tag).text = fmt(v)
            for part in voc.get("parts", []):
                pe = ET.SubElement(o, "part")
                ET.SubElement(pe, "name").text = str(part.get("name"))
                if part.get("bndbox"):
                    pb = ET.SubElement(pe, "bndbox")
                    for tag, v in zip(("xmin", "ymin", "xmax", "ymax"), part["bndbox"]):
                        ET.SubElement(pb, tag).text = fmt(v)
            if voc.get("actions"):
                ae = ET.SubElement(o, "actions")
                for k, v in voc["actions"].items():
                    ET.SubElement(ae, k).text = str(v)
            if meta.get("attributes"):
                at = ET.SubElement(o, "attributes")
                for k, v in meta["attributes"].items():
                    x = ET.SubElement(at, "attribute")
                    ET.SubElement(x, "name").text = str(k)
                    ET.SubElement(x, "value").text = str(v)
        ET.indent(a)
        f = out_dir / (Path(im["name"]).stem + ".xml")
        ET.ElementTree(a).write(f, encoding="utf-8", xml_declaration=True)
        files.append(str(f))
    return {"files": files, "exported": int(len(ann)), "skipped": int((~ok).sum()), "warnings": warnings}
