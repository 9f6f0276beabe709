"""EXACT's pipe format (its default export and upload format), one annotation per line:

    image.png|mitotic figure|{"x1": 10, "y1": 20, "x2": 60, "y2": 70}|
    image.png|tumour|not in image

The vector lists the points x1, y1, x2, y2 ... (and "frame" for z-stacks); the last field holds
"b" for blurred and "c" for concealed. The file does not say whether two points are a box, an
ellipse or a line: the project's template of that name decides (``known_types``), else
``vector_types={"class": "line"}``, else two points are a box, one a point, more a polygon.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import shapely

from . import _geometry as G
from ._checks import integer, polygon
from ._common import Parsed, fail, image_table, is_missing, read_text, table, type_info

_KEY = re.compile(r"^([xy])(\d+)$")


def read(path, *, images=None, known_types=None, vector_types=None, **_) -> Parsed:
    decided = {}
    if known_types is not None and len(known_types):
        decided.update(dict(zip(known_types["name"], known_types["vector_type"])))
    decided.update(vector_types or {})
    rows, names = [], {}
    for n, line in enumerate(read_text(path).splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) < 3:
            raise fail(path, f"line {n}", "expected 'image|type|vector|flags'")
        name, label, vector = parts[0].strip(), parts[1].strip(), parts[2].strip()
        flags = parts[3].strip() if len(parts) > 3 else ""
        if not name or not label:
            raise fail(path, f"line {n}", "expected an image name and a type name")
        names.setdefault(name, None)
        row = {"image": name, "type": label, "blurred": "b" in flags, "concealed": "c" in flags}
        if vector.lower() in ("not in image", "", "null", "none", "{}"):
            row.update(geometry=None, shape="global")
        else:
            row.update(_vector(path, n, vector, decided.get(label)))
        rows.append(row)
    return Parsed(annotations=table(rows), images=image_table([{"name": k} for k in names]))


def _vector(path, n, text, vtype):
    try:
        v = json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(path, f"line {n} column {exc.colno}", f"expected a JSON vector like {{\"x1\": 10, \"y1\": 20}} ({exc.msg})") from None
    if not isinstance(v, dict):
        raise fail(path, f"line {n}", "expected a JSON object of x1, y1, x2, y2 ...")
    pts = {}
    frame = None
    for k, val in v.items():
        m = _KEY.match(k)
        if k == "frame":
            frame = integer(val, path, f"line {n} key 'frame'", what="a frame number")
            continue
        if not m:
            continue
        try:
            pts.setdefault(int(m.group(2)), {})[m.group(1)] = float(val)
        except (TypeError, ValueError):
            raise fail(path, f"line {n} key {k!r}", f"expected a number, got {val!r}") from None
    try:
        xy = np.array([[pts[i]["x"], pts[i]["y"]] for i in sorted(pts)])
    except KeyError:
        raise fail(path, f"line {n}", "expected x and y for every point number") from None
    if len(xy) == 0 or not np.isfinite(xy).all():
        raise fail(path, f"line {n}", "expected at least one finite point")
    return {"frame": frame, **geometry_from_points(xy, vtype, path, f"line {n}")}


def geometry_from_points(xy: np.ndarray, vtype: str | None, path, where) -> dict:
    """The geometry and shape EXACT means by a list of points: ``vtype`` (the project's template)
    decides; without one, 1 point is a point, 2 a box, more a polygon."""
    vtype = vtype or {1: "point", 2: "box"}.get(len(xy), "polygon")
    if vtype in ("box", "fixed_box", "ellipse"):
        (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
        if x1 <= x0 or y1 <= y0:
            raise fail(path, where, f"a {vtype} needs two distinct corners")
        return {"geometry": shapely.box(x0, y0, x1, y1), "shape": "ellipse" if vtype == "ellipse" else "box"}
    if vtype == "point":
        return {"geometry": shapely.Point(xy[0]) if len(xy) == 1 else shapely.MultiPoint(xy), "shape": "point"}
    if vtype in ("line", "polyline"):
        if len(xy) < 2:
            raise fail(path, where, f"a {vtype} needs at least 2 points")
        return {"geometry": shapely.LineString(xy), "shape": "line" if len(xy) == 2 else "polyline"}
    if len(xy) < 3:
        raise fail(path, where, "a polygon needs at least 3 points")
    return {"geometry": polygon([xy], path, where), "shape": "polygon"}


def vector_points(geom, vtype):
    """The points EXACT stores for a geometry: two corners for boxes and ellipses."""
    if vtype in ("box", "fixed_box", "ellipse"):
        x0, y0, x1, y1 = geom.bounds
        return [(x0, y0), (x1, y1)]
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return [tuple(p) for p in G.exterior_coords(G.polygons_of(geom)[0])]
    return [tuple(p) for p in shapely.get_coordinates(geom)]


def write(path, annotations, images, types, **_) -> dict:
    path = Path(path)
    out = path if path.suffix else path / "annotations.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    type_info(types)
    ann = annotations
    lines, warnings = [], []
    for r in ann.itertuples(index=False):
        label = r.type  # EXACT matches templates by name: keep the template's own name
        flags = ("b" if r.blurred else "") + ("c" if r.concealed else "")
        if r.vector_type == "global" or r.geometry is None:
            lines.append(f"{r.image}|{label}|not in image|{flags}")
            continue
        if len(G.polygons_of(r.geometry)) > 1:
            warnings.append(f"a multi-part polygon on {r.image!r}: only its first part fits EXACT's vector")
        vec = {}
        for i, (x, y) in enumerate(vector_points(r.geometry, r.vector_type), 1):
            vec[f"x{i}"] = _num(x)
            vec[f"y{i}"] = _num(y)
        if not is_missing(r.frame) and int(r.frame) != 0:
            vec["frame"] = int(r.frame)
        lines.append(f"{r.image}|{label}|{json.dumps(vec)}|{flags}")
    out.write_text("".join(ln + "\n" for ln in lines))
    return {"files": [str(out)], "exported": len(lines), "skipped": 0, "warnings": warnings}


def _num(v):
    v = float(v)
    return int(v) if v.is_integer() else v
