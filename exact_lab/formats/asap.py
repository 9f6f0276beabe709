"""ASAP XML: ``<ASAP_Annotations>`` with Dot, PointSet, Rectangle, Polygon and Spline
annotations; the class is ``PartOfGroup`` ("None" = no class), groups carry colours.

A Spline is read as the polygon through its control points (meta["asap_type"] = "Spline" brings
it back as a Spline on export).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import shapely

from . import _geometry as G
from ._checks import checked_box, polygon
from ._common import (
    UNCLASSIFIED,
    Parsed,
    fail,
    fmt,
    image_for_file,
    image_table,
    meta_of,
    parse_xml,
    searched_folder,
    source_label,
    table,
    type_info,
)


def read(path, *, images=None, image=None, **_) -> Parsed:
    p = Path(path)
    files = sorted(p.glob("*.xml")) if p.is_dir() else [p]
    if not files:
        raise fail(p, None, "no annotations found: expected ASAP .xml files in the folder")
    rows, warnings, names, hints = [], [], [], {}
    for f in files:
        root = parse_xml(f)
        if root.tag != "ASAP_Annotations":
            raise fail(f, f"<{root.tag}>", "expected the root element <ASAP_Annotations>")
        name = image_for_file(f, image, images, warnings)
        names.append(name)
        for grp in root.iter("Group"):
            if grp.get("Name") and grp.get("Color"):
                hints.setdefault(grp.get("Name"), {"color": grp.get("Color").lower()})
        for k, a in enumerate(root.iter("Annotation")):
            rows.append(_annotation(f, f"<Annotation> #{k + 1}", a, name, hints))
    return Parsed(annotations=table(rows), images=image_table([{"name": n} for n in names]),
                  types=hints, warnings=warnings, searched=searched_folder(p, files, "ASAP"))


def _annotation(f, where, a, image, hints):
    kind = a.get("Type")
    group = a.get("PartOfGroup") or "None"
    label = UNCLASSIFIED if group == "None" else group
    if label == UNCLASSIFIED and a.get("Color"):
        hints.setdefault(label, {"color": a.get("Color").lower()})
    coords = []
    for c in a.iter("Coordinate"):
        try:
            coords.append((float(c.get("Order", len(coords))), float(c.get("X")), float(c.get("Y"))))
        except (TypeError, ValueError):
            raise fail(f, f"{where} <Coordinate Order={c.get('Order')!r}>", "expected numeric X and Y") from None
    if not coords:
        raise fail(f, where, "expected <Coordinates> with at least one <Coordinate>")
    xy = np.array(sorted(coords))[:, 1:]
    if not np.isfinite(xy).all():
        raise fail(f, where, "expected finite coordinates")
    meta = {}
    if kind == "Dot":
        geom, shape = shapely.Point(xy[0]), "point"
    elif kind == "PointSet":
        geom, shape = (shapely.Point(xy[0]) if len(xy) == 1 else shapely.MultiPoint(xy)), "point"
    elif kind == "Rectangle":
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        geom = checked_box(f, where, x0, y0, x1, y1)
        shape = "box" if len(xy) == 2 or G.is_rectangle(shapely.Polygon(xy)) else "polygon"
        if shape == "polygon":
            geom = polygon([xy], f, where)
    elif kind in ("Polygon", "Spline"):
        if len(xy) < 3:
            raise fail(f, where, f"a {kind} needs at least 3 coordinates")
        geom, shape = polygon([xy], f, where), "polygon"
        if kind == "Spline":
            meta["asap_type"] = "Spline"
    else:
        raise fail(f, f"{where} Type={kind!r}", "expected Dot, PointSet, Rectangle, Polygon or Spline")
    if a.get("Color"):
        meta["color"] = a.get("Color")
    return {"image": image, "type": label, "geometry": geom, "shape": shape,
            "description": a.get("Name"), "meta": meta or None}


def write(path, annotations, images, types, **_) -> dict:
    path = Path(path)
    tinfo = type_info(types)
    ann = annotations
    vt = ann["vector_type"].to_numpy(dtype=object) if len(ann) else np.array([], dtype=object)
    skip = np.isin(vt, ["global", "line", "polyline"])
    warnings = [f"ASAP has no lines or whole-image annotations: {int(skip.sum())} not written"] if skip.any() else []
    ann = ann[~skip]
    groups = {iid: g for iid, g in ann.groupby("image_id", sort=False)} if len(ann) else {}
    single = path.suffix.lower() == ".xml"
    img_rows = [r for r in images.to_dict("records") if r["image_id"] in groups] if single else images.to_dict("records")
    if single and len(img_rows) > 1:
        raise fail(path, None, f"an ASAP file holds one image; {len(img_rows)} have annotations: give a folder")
    files = []
    for im in img_rows:
        root = ET.Element("ASAP_Annotations")
        anns_el = ET.SubElement(root, "Annotations")
        used = {}
        g = groups.get(im["image_id"])
        for k, row in enumerate(g.itertuples(index=False) if g is not None else []):
            label = source_label(tinfo.get(row.type), row.type)
            color = (tinfo.get(row.type) or {}).get("color") or "#F4FA58"
            used[label] = color
            meta = meta_of(row.meta)
            name = row.description if isinstance(row.description, str) and row.description else f"Annotation {k}"
            geom, vtype = row.geometry, row.vector_type
            if vtype == "point":
                pts = shapely.get_coordinates(geom)
                kind = "Dot" if len(pts) == 1 else "PointSet"
            elif vtype in ("box", "fixed_box") or (meta.get("shape") == "box" and G.is_rectangle(geom)):
                x0, y0, x1, y1 = geom.bounds
                pts, kind = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]), "Rectangle"
            elif vtype == "ellipse":
                pts, kind = G.exterior_coords(G.ellipse_outline(geom, meta.get("rotation", 0))), "Polygon"
                warnings.append("an ellipse written as a polygon (ASAP has no ellipse)")
            else:
                polys = G.polygons_of(geom)
                if len(polys) > 1:
                    warnings.append(f"a {len(polys)}-part polygon written as {len(polys)} ASAP polygons")
                pts, kind = G.exterior_coords(polys[0]), meta.get("asap_type", "Polygon")
                for extra in polys[1:]:
                    _annotation_el(anns_el, f"{name} part", "Polygon", label, meta.get("color", color), G.exterior_coords(extra))
            _annotation_el(anns_el, name, kind, label, meta.get("color", color), pts)
        groups_el = ET.SubElement(root, "AnnotationGroups")
        for label, color in used.items():
            if label != UNCLASSIFIED:
                grp = ET.SubElement(groups_el, "Group", {"Name": label, "PartOfGroup": "None", "Color": color})
                ET.SubElement(grp, "Attributes")
        ET.indent(root)
        out = path if single else path / (Path(im["name"]).stem + ".xml")
        out.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
        files.append(str(out))
    return {"files": files, "exported": int(len(ann)), "skipped": int(skip.sum()), "warnings": warnings}


def _annotation_el(parent, name, kind, label, color, pts):
    a = ET.SubElement(parent, "Annotation", {"Name": str(name), "Type": kind,
                                             "PartOfGroup": "None" if label == UNCLASSIFIED else label,
                                             "Color": color})
    cs = ET.SubElement(a, "Coordinates")
    for i, (x, y) in enumerate(np.asarray(pts)[:, :2]):
        ET.SubElement(cs, "Coordinate", {"Order": str(i), "X": fmt(x), "Y": fmt(y)})
