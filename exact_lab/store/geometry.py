"""Geometry at the store's edge: parse what users hand in and encode it once as WKB plus
bounding-box columns (whether it fits its template is checked in validate.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from ..errors import InvalidGeometryError, InvalidValueError

VECTOR_TYPES = ("box", "fixed_box", "point", "ellipse", "line", "polyline", "polygon", "global", "mask")

_ALIASES = {
    "rectangle": "box",
    "bbox": "box",
    "bounding_box": "box",
    "fixed-size box": "fixed_box",
    "fixed_size_box": "fixed_box",
    "fixed-box": "fixed_box",
    "fixedbox": "fixed_box",
    "circle": "ellipse",
    "points": "point",
    "multipoint": "point",
    "linestring": "polyline",
    "linestrip": "polyline",
    "multiline": "polyline",
    "multipolygon": "polygon",
    "tag": "global",
    "classification": "global",
    "whole_image": "global",
    "segmentation": "mask",
}

# Which shapely geometry kinds each vector type accepts.
ACCEPTS = {
    "box": {"Polygon"},
    "fixed_box": {"Polygon"},
    "ellipse": {"Polygon"},
    "point": {"Point", "MultiPoint"},
    "line": {"LineString"},
    "polyline": {"LineString", "MultiLineString"},
    "polygon": {"Polygon", "MultiPolygon"},
    "mask": {"Polygon", "MultiPolygon"},
    "global": set(),
}


def normalize_vector_type(name: str) -> str:
    key = str(name).strip().lower().replace(" ", "_")
    key = _ALIASES.get(key, _ALIASES.get(str(name).strip().lower(), key))
    if key not in VECTOR_TYPES:
        raise InvalidValueError(
            f"unknown vector type {name!r}; expected one of {', '.join(VECTOR_TYPES)}"
        )
    return key


def vector_type_for(geom) -> str:
    """The vector type that best fits a geometry (used when an import creates a template)."""
    if geom is None or shapely.is_empty(geom):
        return "global"
    kind = geom.geom_type
    if kind in ("Point", "MultiPoint"):
        return "point"
    if kind == "LineString":
        return "line" if shapely.get_num_coordinates(geom) == 2 else "polyline"
    if kind == "MultiLineString":
        return "polyline"
    if kind == "Polygon" and is_axis_aligned_rectangle(np.array([geom], dtype=object))[0]:
        return "box"
    return "polygon"


def to_geometry_array(values, *, row_offset: int = 0) -> np.ndarray:
    """Turn shapely objects, WKT strings, WKB bytes or None into an array of shapely objects."""
    values = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values.astype(object, copy=False)
    # Fast path: already shapely (or missing) everywhere — the common case for big tables.
    if len(values) and (shapely.is_geometry(values) | is_missing(values)).all():
        out = values.copy()
        out[is_missing(values)] = None
        return out
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            out[i] = None
        elif isinstance(value, shapely.Geometry):
            out[i] = value
        else:
            try:
                if isinstance(value, (bytes, bytearray, memoryview)):
                    out[i] = shapely.from_wkb(bytes(value))
                elif isinstance(value, str):
                    out[i] = shapely.from_wkt(value)
                elif isinstance(value, dict):
                    out[i] = shapely.geometry.shape(value)
                else:
                    raise TypeError(type(value).__name__)
            except Exception as exc:
                raise InvalidGeometryError(
                    f"row {i + row_offset}: cannot read geometry {str(value)[:60]!r} ({exc})"
                ) from exc
    return out


def is_missing(values: np.ndarray) -> np.ndarray:
    """True for None / NaN entries of an object array (vectorised)."""
    return pd.isna(values) if len(values) else np.zeros(0, dtype=bool)


def is_axis_aligned_rectangle(geoms: np.ndarray) -> np.ndarray:
    """True where a polygon is an axis-aligned rectangle with four corners (closed ring of 5)."""
    ok = np.zeros(len(geoms), dtype=bool)
    if len(geoms) == 0:
        return ok
    polys = shapely.get_type_id(geoms) == 3
    if not polys.any():
        return ok
    idx = np.nonzero(polys)[0]
    sub = geoms[idx]
    simple = (shapely.get_num_interior_rings(sub) == 0) & (shapely.get_num_coordinates(sub) == 5)
    bounds = shapely.bounds(sub)
    area_box = (bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1])
    area = shapely.area(sub)
    close = np.isclose(area, area_box, rtol=1e-9, atol=1e-6) & (area_box > 0)
    ok[idx] = simple & close
    return ok


def bounds_of(geoms: np.ndarray) -> np.ndarray:
    """(n, 4) xmin, ymin, xmax, ymax; NaN for geometry-less (global) annotations."""
    out = np.full((len(geoms), 4), np.nan)
    present = ~is_missing(geoms)
    if present.any():
        out[present] = shapely.bounds(geoms[present])
    return out


def wkb_array(geoms: np.ndarray) -> pa.Array:
    present = ~is_missing(geoms)
    values = np.empty(len(geoms), dtype=object)
    values[:] = None
    if present.any():
        values[present] = shapely.to_wkb(geoms[present])
    return pa.array(values, type=pa.binary())


# Little-endian WKB header of a polygon with one ring of five points.
_BOX_WKB_HEADER = np.frombuffer(bytes([1, 3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0, 0]), dtype=np.uint8)


def box_wkb_array(xmin, ymin, xmax, ymax) -> pa.Array:
    """WKB polygons for many boxes at once, without building shapely objects (bulk fast path).

    Writes straight into one buffer through unaligned strided views: no intermediate arrays.
    """
    n = len(xmin)
    size = len(_BOX_WKB_HEADER) + 80
    data = np.empty(n * size, dtype=np.uint8)
    np.ndarray((n, len(_BOX_WKB_HEADER)), dtype=np.uint8, buffer=data, strides=(size, 1))[:] = _BOX_WKB_HEADER
    ring = np.ndarray((n, 10), dtype="<f8", buffer=data, offset=len(_BOX_WKB_HEADER), strides=(size, 8))
    # (x1,y0) (x1,y1) (x0,y1) (x0,y0) (x1,y0): the ring shapely.box writes
    ring[:, 0], ring[:, 1] = xmax, ymin
    ring[:, 2], ring[:, 3] = xmax, ymax
    ring[:, 4], ring[:, 5] = xmin, ymax
    ring[:, 6], ring[:, 7] = xmin, ymin
    ring[:, 8], ring[:, 9] = xmax, ymin
    offsets = np.arange(0, (n + 1) * size, size, dtype=np.int32)
    return pa.Array.from_buffers(pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def from_wkb_array(values) -> np.ndarray:
    """Shapely objects from a column of WKB bytes (None stays None)."""
    arr = np.asarray(values, dtype=object)
    out = np.empty(len(arr), dtype=object)
    out[:] = None
    present = ~is_missing(arr)
    if present.any():
        values = arr[present]
        if isinstance(values[0], (bytearray, memoryview)):
            values = np.array([bytes(v) for v in values], dtype=object)
        out[present] = shapely.from_wkb(values)
    return out
