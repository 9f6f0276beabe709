"""QuPath GeoJSON: a Feature, a FeatureCollection or a list of Features. Classification, name,
measurements, object type and lock state are kept (name as the description, the rest in meta).

GeoJSON names no image: the image is ``image=``, else the project image whose name matches the
file's stem, else the file's stem (with a warning).
"""

from __future__ import annotations

import uuid as _uuid
from pathlib import Path

import numpy as np
import shapely
import shapely.geometry

from . import _geometry as G
from ._checks import checked_box, json_object, number, text
from ._common import (
    UNCLASSIFIED,
    Parsed,
    dump_json,
    fail,
    image_for_file,
    image_table,
    load_json,
    meta_of,
    searched_folder,
    source_label,
    table,
    type_info,
)


def read(path, *, images=None, image=None, **_) -> Parsed:
    p = Path(path)
    files = sorted([*p.glob("*.geojson"), *p.glob("*.json")]) if p.is_dir() else [p]
    if not files:
        raise fail(p, None, "no annotations found: expected GeoJSON files (*.geojson, *.json) in the folder")
    rows, warnings, names, hints = [], [], [], {}
    for f in files:
        data = load_json(f)
        feats = _features(f, data)
        name = image_for_file(f, image, images, warnings)
        names.append(name)
        for i, feat in enumerate(feats):
            rows.append(_feature(f, f"features[{i}]", feat, name, hints))
    return Parsed(annotations=table(rows), images=image_table([{"name": n} for n in names]),
                  types=hints, warnings=warnings, searched=searched_folder(p, files, "GeoJSON"))


def _features(f, data):
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if data.get("type") == "FeatureCollection":
            feats = data.get("features")
            if not isinstance(feats, list):
                raise fail(f, "key 'features'", "expected a list of features")
            return feats
        if data.get("type") == "Feature":
            return [data]
        if "geometry" in data:
            return [data]
    raise fail(f, "top level", "expected a GeoJSON Feature, FeatureCollection or list of Features")


def _feature(f, where, feat, image, hints):
    if not isinstance(feat, dict) or "geometry" not in feat:
        raise fail(f, where, "expected a GeoJSON Feature with a 'geometry'")
    props = json_object(feat.get("properties"), f, f"{where}.properties")
    try:
        geom = shapely.geometry.shape(feat["geometry"])
    except Exception as exc:
        raise fail(f, f"{where}.geometry", f"expected a GeoJSON geometry ({exc})") from None
    if geom.is_empty or not np.isfinite(shapely.get_coordinates(geom)).all():
        raise fail(f, f"{where}.geometry", "expected a non-empty geometry with finite coordinates")
    cls = props.get("classification") or {}
    name = cls.get("name") if isinstance(cls, dict) else cls
    label = text(name, f, f"{where}.properties.classification", what="a class name") or UNCLASSIFIED
    color = _color(cls.get("color"), cls.get("colorRGB")) if isinstance(cls, dict) else None
    if color and label not in hints:
        hints[label] = {"color": color}
    meta = {}
    for key in ("objectType", "isLocked", "measurements", "metadata"):
        if props.get(key) not in (None, [], {}):
            meta[key] = props[key]
    if feat.get("id") not in (None, "PathAnnotationObject"):
        meta["qupath_id"] = feat["id"]
    elif feat.get("id"):
        meta["qupath_id"] = feat["id"]
    if feat.get("nucleusGeometry"):
        meta["nucleusGeometry"] = feat["nucleusGeometry"]
    kind = geom.geom_type
    ell = props.get("exact_ellipse")
    if isinstance(ell, dict) and "bounds" in ell:
        bounds = ell["bounds"]
        if not isinstance(bounds, list) or len(bounds) != 4:
            raise fail(f, f"{where}.properties.exact_ellipse.bounds", "expected [xmin, ymin, xmax, ymax]")
        corners = [number(v, f, f"{where}.properties.exact_ellipse.bounds") for v in bounds]
        geom, shape = checked_box(f, f"{where}.properties.exact_ellipse.bounds", *corners), "ellipse"
        if ell.get("rotation"):
            meta["rotation"] = number(ell["rotation"], f, f"{where}.properties.exact_ellipse.rotation", what="an angle")
    elif kind in ("Point", "MultiPoint"):
        shape = "point"
    elif kind == "LineString":
        shape = "line" if len(geom.coords) == 2 else "polyline"
    elif kind == "MultiLineString":
        shape = "polyline"
    elif kind in ("Polygon", "MultiPolygon") and not all(p.area > 0 for p in G.polygons_of(geom)):
        raise fail(f, f"{where}.geometry", "expected a polygon of at least three points that enclose an area")
    elif kind == "Polygon" and G.is_rectangle(geom):
        shape = "box"
    elif kind in ("Polygon", "MultiPolygon"):
        shape = "polygon"
    else:
        raise fail(f, f"{where}.geometry", f"expected a point, line or polygon geometry, got {kind}")
    desc = text(props.get("name"), f, f"{where}.properties.name", what="an object name")
    return {"image": image, "type": label, "geometry": geom, "shape": shape, "description": desc,
            "meta": meta or None}


def _color(rgb, packed):
    """QuPath's class colour: [r, g, b], or one packed integer; anything else is no colour."""
    if isinstance(rgb, list) and len(rgb) >= 3 and all(isinstance(v, int) for v in rgb[:3]):
        return "#{:02x}{:02x}{:02x}".format(*tuple(int(v) & 255 for v in rgb[:3]))
    if isinstance(packed, int):
        return "#%06x" % (packed & 0xFFFFFF)
    return None


# --- writing -----------------------------------------------------------------------------------


def write(path, annotations, images, types, **_) -> dict:
    path = Path(path)
    tinfo = type_info(types)
    ann = annotations
    warnings = []
    glob_ = ann["vector_type"].to_numpy(dtype=object) == "global" if len(ann) else np.array([], bool)
    if glob_.any():
        warnings.append(f"QuPath GeoJSON holds shapes only: {int(glob_.sum())} whole-image annotation(s) not written")
    ann = ann[~glob_]
    groups = {iid: g for iid, g in ann.groupby("image_id", sort=False)} if len(ann) else {}
    single = path.suffix.lower() in (".json", ".geojson")
    img_rows = [r for r in images.to_dict("records") if r["image_id"] in groups] if single else images.to_dict("records")
    if single and len(img_rows) > 1:
        raise fail(path, None, f"QuPath GeoJSON holds one image; {len(img_rows)} have annotations: give a folder")
    files = []
    for im in img_rows:
        g = groups.get(im["image_id"])
        feats = [_feature_out(r, tinfo) for r in (g.itertuples(index=False) if g is not None else [])]
        out = path if single else path / (Path(im["name"]).stem + ".geojson")
        out.parent.mkdir(parents=True, exist_ok=True)
        dump_json({"type": "FeatureCollection", "features": feats}, out, indent=True)
        files.append(str(out))
    return {"files": files, "exported": int(len(ann)), "skipped": int(glob_.sum()), "warnings": warnings}


def _feature_out(row, tinfo):
    meta = meta_of(row.meta)
    label = source_label(tinfo.get(row.type), row.type)
    props = {"objectType": meta.get("objectType", "annotation")}
    if isinstance(row.description, str) and row.description:
        props["name"] = row.description
    if label != UNCLASSIFIED:
        color = (tinfo.get(row.type) or {}).get("color")
        cls = {"name": label}
        if isinstance(color, str) and color.startswith("#") and len(color) == 7:
            cls["color"] = [int(color[i:i + 2], 16) for i in (1, 3, 5)]
        props["classification"] = cls
    for key in ("isLocked", "measurements", "metadata"):
        if key in meta:
            props[key] = meta[key]
    g = row.geometry
    if row.vector_type == "ellipse":
        props["exact_ellipse"] = {"bounds": list(g.bounds), **({"rotation": meta["rotation"]} if meta.get("rotation") else {})}
        g = G.ellipse_outline(g, meta.get("rotation", 0))
    feat = {"type": "Feature", "id": meta.get("qupath_id", str(row.uuid) if _is_uuid(row.uuid) else None),
            "geometry": shapely.geometry.mapping(g), "properties": props}
    if "nucleusGeometry" in meta:
        feat["nucleusGeometry"] = meta["nucleusGeometry"]
    return feat


def _is_uuid(v):
    try:
        _uuid.UUID(str(v))
        return True
    except ValueError:
        return False
