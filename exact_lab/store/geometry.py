"""Geometry at the store's edge: parse what users hand in, check it fits the template's vector
type, and encode it once as WKB plus bounding-box columns."""

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
_ACCEPTS = {
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
    if kind == "Polygon" and _is_axis_aligned_rectangle(np.array([geom], dtype=object))[0]:
        return "box"
    return "polygon"


def to_geometry_array(values, *, row_offset: int = 0) -> np.ndarray:
    """Turn shapely objects, WKT strings, WKB bytes or None into an array of shapely objects."""
    values = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values.astype(object, copy=False)
    # Fast path: already shapely (or missing) everywhere — the common case for big tables.
    if len(values) and (shapely.is_geometry(values) | _missing(values)).all():
        out = values.copy()
        out[_missing(values)] = None
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


def _missing(values: np.ndarray) -> np.ndarray:
    """True for None / NaN entries of an object array (vectorised)."""
    return pd.isna(values) if len(values) else np.zeros(0, dtype=bool)


def _is_axis_aligned_rectangle(geoms: np.ndarray) -> np.ndarray:
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


def validate(geoms: np.ndarray, vector_types: np.ndarray, *, row_offset: int = 0) -> None:
    """Raise InvalidGeometryError naming the first row whose geometry does not fit its type."""
    n = len(geoms)
    if n == 0:
        return
    missing = _missing(geoms)
    type_ids = np.full(n, -1)
    present = ~missing
    if present.any():
        type_ids[present] = shapely.get_type_id(geoms[present])
    kinds = np.array(
        ["", "Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString",
         "MultiPolygon", "GeometryCollection"], dtype=object
    )
    names = kinds[np.clip(type_ids + 1, 0, 8)]

    def fail(i, why):
        raise InvalidGeometryError(f"row {int(i) + row_offset}: {why}")

    for vt in pd.unique(vector_types):
        rows = np.nonzero(vector_types == vt)[0]
        if vt == "global":
            has_shape = present[rows].copy()
            if has_shape.any():
                has_shape[has_shape] = ~shapely.is_empty(geoms[rows][has_shape])
            if has_shape.any():
                bad = rows[np.argmax(has_shape)]
                fail(bad, f"a 'global' annotation has no geometry, got a {names[bad]}")
            continue
        accepts = _ACCEPTS[vt]
        if missing[rows].any():
            fail(rows[np.argmax(missing[rows])], f"a {vt!r} annotation needs a geometry")
        wrong = ~np.isin(names[rows], list(accepts))
        if wrong.any():
            i = rows[np.argmax(wrong)]
            fail(i, f"a {vt!r} annotation needs a {' or '.join(sorted(accepts))}, got a {names[i]}")
        sub = geoms[rows]
        empty = shapely.is_empty(sub)
        if empty.any():
            fail(rows[np.argmax(empty)], f"empty {vt} geometry")
        coords, index = shapely.get_coordinates(sub, return_index=True)
        finite = np.isfinite(coords).all(axis=1)
        if not finite.all():
            fail(rows[index[np.argmin(finite)]], "coordinates must be finite numbers")
        if vt in ("box", "fixed_box", "ellipse"):
            rect = _is_axis_aligned_rectangle(sub)
            if not rect.all():
                fail(rows[np.argmin(rect)], f"a {vt!r} annotation must be an axis-aligned rectangle with non-zero size")
        elif vt == "line":
            counts = shapely.get_num_coordinates(sub)
            if (counts != 2).any():
                fail(rows[np.argmax(counts != 2)], "a 'line' has exactly two points")
        elif vt in ("polygon", "mask"):
            area = shapely.area(sub)
            if (area <= 0).any():
                fail(rows[np.argmax(area <= 0)], f"a {vt!r} annotation needs at least three points enclosing an area")


def bounds_of(geoms: np.ndarray) -> np.ndarray:
    """(n, 4) xmin, ymin, xmax, ymax; NaN for geometry-less (global) annotations."""
    out = np.full((len(geoms), 4), np.nan)
    present = ~_missing(geoms)
    if present.any():
        out[present] = shapely.bounds(geoms[present])
    return out


def wkb_array(geoms: np.ndarray) -> pa.Array:
    present = ~_missing(geoms)
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
    present = ~_missing(arr)
    if present.any():
        values = arr[present]
        if isinstance(values[0], (bytearray, memoryview)):
            values = np.array([bytes(v) for v in values], dtype=object)
        out[present] = shapely.from_wkb(values)
    return out
