"""Geometry to binary columns for the browser (the other half is js/src/data/chunk.ts).

Shapes are grouped by how they are drawn: ``box`` (xmin, ymin, xmax, ymax as float32 quads),
``point`` (x, y), ``path`` (vertices + offsets) and ``polygon`` (vertices + ring offsets + shape
offsets; rings are not closed; on the wire the vertices are int16 steps, ``steps.py``).
Everything is vectorised with shapely 2 / numpy: no Python loop per shape. Each kind is ordered
along a Hilbert curve so that a chunk of shapes covers a compact region of the slide, which lets
the browser skip chunks outside the view.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import shapely

from .steps import encode_rings

CHUNK_SIZE = 65536
BOX_TYPES = ("box", "fixed_box", "ellipse")
KINDS = ("box", "point", "path", "polygon")
_KIND_OF_VECTOR_TYPE = {
    "box": "box", "fixed_box": "box", "ellipse": "box", "point": "point",
    "line": "path", "polyline": "path", "polygon": "polygon", "mask": "polygon",
}


@dataclass
class Columns:
    """Shapes of one kind, in drawing order; ``rows`` maps each shape to its source row."""

    kind: str
    rows: np.ndarray  # int64, one per shape
    coords: np.ndarray  # float64 (m, 2) vertices, or (n, 4) for boxes
    offsets: np.ndarray | None = None  # path: vertex offsets per shape; polygon: per ring
    geom_offsets: np.ndarray | None = None  # polygon: ring offsets per shape
    bounds: np.ndarray = field(default=None)  # (n, 4)

    def __len__(self):
        return len(self.rows)


def kind_of_vector_type(vector_type: str | None) -> str | None:
    return _KIND_OF_VECTOR_TYPE.get(vector_type or "")


# -- building columns ------------------------------------------------------------------------------
def box_columns(bounds: np.ndarray, rows: np.ndarray | None = None) -> Columns:
    bounds = np.asarray(bounds, dtype=np.float64).reshape(-1, 4)
    rows = np.arange(len(bounds)) if rows is None else np.asarray(rows)
    keep = np.isfinite(bounds).all(axis=1)
    if not keep.all():
        bounds, rows = bounds[keep], rows[keep]
    return Columns("box", rows.astype(np.int64, copy=False), bounds, bounds=bounds)


def geometry_columns(geoms, vector_type: str | None = None, boxes: np.ndarray | None = None,
                     extent: tuple[float, float, float, float] | None = None) -> list[Columns]:
    """Columns for an array of shapely geometries.

    With a ``vector_type`` every shape is drawn as that type's kind (boxes from ``boxes``, the
    bbox columns, when given). Without one (user layers) the kind follows the geometry, and
    polygons that are axis-aligned rectangles become boxes, the cheapest shape to draw (six
    vertices of plain triangles, no outline segments).

    With an ``extent`` the columns come out in ``spatial_order`` (as ``Layers.place`` orders them):
    hole-free polygons are reordered in the same gather that drops their closing vertices, which
    spares a million cells' 256 MB copy and a pass. The order is applied to the extracted arrays,
    never to the geometries: shapely visiting the objects out of memory order read a million
    cells' coordinates in 1.9 s instead of 0.85 s.
    """
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return []
    kind = kind_of_vector_type(vector_type)
    if kind == "box":
        if boxes is None:
            boxes = shapely.bounds(geoms)
        return [box_columns(boxes)]
    valid = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    rows = np.nonzero(valid)[0]
    parts = geoms[valid]
    type_id = shapely.get_type_id(parts)
    if (type_id >= 4).any():
        # one part per drawable shape (multi-geometries are split, each part keeps its row); a
        # pass over every shape (1.1 s for a million cells), so only when there is a multi-part
        parts, part_idx = shapely.get_parts(parts, return_index=True)
        rows = rows[part_idx]
        type_id = shapely.get_type_id(parts)
    bounds = shapely.bounds(parts)
    out = []
    points = type_id == 0
    lines = (type_id == 1) | (type_id == 2)
    polys = type_id == 3
    if points.any():
        xy = shapely.get_coordinates(parts[points])
        out.append(Columns("point", rows[points], xy, bounds=np.hstack([xy, xy])))
    if lines.any():
        out.append(_path_columns(parts[lines], rows[lines], bounds[lines]))
    if polys.any():
        p, r, b = parts[polys], rows[polys], bounds[polys]
        n_coords = shapely.get_num_coordinates(p)
        if kind is None:  # rectangles among user polygons become boxes
            rect = _rectangles(p, b, n_coords)
            if rect.any():
                out.append(box_columns(b[rect], r[rect]))
                p, r, b, n_coords = p[~rect], r[~rect], b[~rect], n_coords[~rect]
        if len(p):
            out.append(_polygon_columns(p, r, b, n_coords, extent))
    if extent is not None:  # the other kinds (and holed polygons) as place() would order them
        out = [reorder(c, spatial_order(c.bounds, extent)) if len(c) > 1 else c for c in out]
    return out


def _rectangles(polys: np.ndarray, bounds: np.ndarray, n_coords: np.ndarray) -> np.ndarray:
    """Which polygons are axis-aligned rectangles: five coordinates, no hole, the area of their
    bounds. Only the five-coordinate ones are measured: a million cells, none of them with five,
    cost nothing here instead of 0.17 s."""
    rect = np.zeros(len(polys), bool)
    candidates = np.nonzero(n_coords == 5)[0]
    if not len(candidates):
        return rect
    p, b = polys[candidates], bounds[candidates]
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    ok = (shapely.get_num_interior_rings(p) == 0) & np.isclose(shapely.area(p), area, rtol=1e-9, atol=1e-9) & (area > 0)
    rect[candidates[ok]] = True
    return rect


def _path_columns(lines: np.ndarray, rows: np.ndarray, bounds: np.ndarray | None = None) -> Columns:
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(idx, minlength=len(lines))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Columns("path", rows, coords, offsets=offsets, bounds=shapely.bounds(lines) if bounds is None else bounds)


def _polygon_columns(polys: np.ndarray, rows: np.ndarray, bounds: np.ndarray | None = None,
                     n_coords: np.ndarray | None = None, extent=None) -> Columns:
    bounds = shapely.bounds(polys) if bounds is None else bounds
    if not shapely.get_num_interior_rings(polys).any():
        # no holes (cell outlines): a polygon's vertices are its one ring's, read in one pass
        # instead of two (get_rings then get_coordinates: 2.1 s against 1.0 s for a million cells)
        coords = shapely.get_coordinates(polys)
        counts = (shapely.get_num_coordinates(polys) if n_coords is None else n_coords).astype(np.int64)
        if extent is not None and len(polys) > 1:
            return _ordered_rings(coords, counts, rows, bounds, spatial_order(bounds, extent))
        ring_geom = np.arange(len(polys))
    else:
        rings, ring_geom = shapely.get_rings(polys, return_index=True)
        coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
        counts = np.bincount(ring_idx, minlength=len(rings))
    # drop each ring's closing vertex: the browser draws rings as loops
    last = np.cumsum(counts) - 1
    keep = np.ones(len(coords), bool)
    keep[last[counts > 0]] = False
    # np.compress over rows, not coords[keep] (a boolean pick of rows is slow in numpy): a million
    # cells' columns in 0.8-0.9 s against 1.7-2.0 s
    coords = np.compress(keep, coords, axis=0)
    ring_offsets = np.concatenate([[0], np.cumsum(np.maximum(counts - 1, 0))]).astype(np.int64)
    geom_offsets = np.concatenate([[0], np.cumsum(np.bincount(ring_geom, minlength=len(polys)))]).astype(np.int64)
    return Columns("polygon", rows, coords, offsets=ring_offsets, geom_offsets=geom_offsets, bounds=bounds)


def _ordered_rings(coords: np.ndarray, counts: np.ndarray, rows: np.ndarray, bounds: np.ndarray,
                   order: np.ndarray) -> Columns:
    """Columns of one-ring polygons in ``order``, from their closed rings' coordinates (``counts``
    per polygon): one gather takes each ring's vertices but the closing one, in the new order."""
    lengths = np.maximum(counts - 1, 0)[order]
    starts = (np.cumsum(counts) - counts)[order]
    return Columns("polygon", rows[order], np.take(coords, _ragged(starts, lengths), axis=0),
                   offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
                   geom_offsets=np.arange(len(order) + 1, dtype=np.int64), bounds=np.take(bounds, order, axis=0))


# -- ordering and chunking -------------------------------------------------------------------------
def hilbert_index(qx: np.ndarray, qy: np.ndarray, order: int = 8) -> np.ndarray:
    """Position of integer cells (qx, qy) in [0, 2^order) along a Hilbert curve (vectorised)."""
    n = 1 << order
    x, y = qx.astype(np.int32), qy.astype(np.int32)
    d = np.zeros(len(x), np.int64)
    s = n >> 1
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        flip = ~ry & rx
        x = np.where(flip, n - 1 - x, x)
        y = np.where(flip, n - 1 - y, y)
        x, y = np.where(~ry, y, x), np.where(~ry, x, y)
        s >>= 1
    return d


def spatial_order(bounds: np.ndarray, extent: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """Order of shapes along a Hilbert curve through their centres: consecutive shapes are
    neighbours on the slide, so each chunk covers one compact patch."""
    cx = (bounds[:, 0] + bounds[:, 2]) * 0.5
    cy = (bounds[:, 1] + bounds[:, 3]) * 0.5
    if extent is None:
        extent = (cx.min(), cy.min(), cx.max(), cy.max())
    x0, y0, x1, y1 = extent
    # 256 x 256 cells are plenty to make 65536-shape chunks compact, and a 16-bit key sorts
    # with numpy's radix sort in linear time.
    qx = np.clip((cx - x0) * (255 / max(x1 - x0, 1e-9)), 0, 255).astype(np.int32)
    qy = np.clip((cy - y0) * (255 / max(y1 - y0, 1e-9)), 0, 255).astype(np.int32)
    return np.argsort(_hilbert_table()[qy * 256 + qx], kind="stable")


@lru_cache(maxsize=1)
def _hilbert_table() -> np.ndarray:
    """Hilbert position of every cell of the 256 x 256 grid, row-major (one gather per shape)."""
    qy, qx = np.divmod(np.arange(65536), 256)
    return hilbert_index(qx, qy).astype(np.uint16)


def reorder(c: Columns, order: np.ndarray) -> Columns:
    if np.array_equal(order, np.arange(len(order))):  # already in order (a layer placed again)
        return c
    # rows gathered with np.take(axis=0), not a[idx]: a million cells reordered in 0.4-0.5 s
    # against 1.0-1.5 s
    bounds = np.take(c.bounds, order, axis=0)
    if c.kind == "box":
        return Columns("box", c.rows[order], bounds, bounds=bounds)
    if c.kind == "point":
        return Columns(c.kind, c.rows[order], np.take(c.coords, order, axis=0), bounds=bounds)
    if c.kind == "path":
        starts, lengths = c.offsets[:-1][order], np.diff(c.offsets)[order]
        idx = _ragged(starts, lengths)
        return Columns("path", c.rows[order], np.take(c.coords, idx, axis=0), offsets=np.concatenate([[0], np.cumsum(lengths)]), bounds=bounds)
    # polygon: reorder shapes -> their rings -> the rings' vertices
    g = c.geom_offsets
    ring_idx = _ragged(g[:-1][order], np.diff(g)[order])
    r_starts, r_lengths = c.offsets[:-1][ring_idx], np.diff(c.offsets)[ring_idx]
    vert_idx = _ragged(r_starts, r_lengths)
    return Columns(
        "polygon", c.rows[order], np.take(c.coords, vert_idx, axis=0),
        offsets=np.concatenate([[0], np.cumsum(r_lengths)]),
        geom_offsets=np.concatenate([[0], np.cumsum(np.diff(g)[order])]),
        bounds=bounds,
    )


def _ragged(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices of the concatenated ranges [start, start + length); int32 while they fit (a
    million cells' 16 million indices: 64 MB arrays instead of 128)."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    dtype = np.int32 if total < 2**31 and int(starts.max(initial=0)) < 2**31 else np.int64
    out_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    index = np.repeat((starts - out_starts).astype(dtype), lengths)
    index += np.arange(total, dtype=dtype)
    return index


def chunk_payloads(c: Columns, id_start: int, chunk_size: int = CHUNK_SIZE):
    """Yield (header fields, buffers) for each chunk of the columns; ids are consecutive."""
    n = len(c)
    for _k, a in enumerate(range(0, n, chunk_size)):
        b = min(n, a + chunk_size)
        bounds = c.bounds[a:b]
        bbox = [float(bounds[:, 0].min()), float(bounds[:, 1].min()), float(bounds[:, 2].max()), float(bounds[:, 3].max())]
        head = {"kind": c.kind, "count": b - a, "id_start": id_start + a, "bbox": bbox}
        if c.kind in ("box", "point"):
            buffers = [_f32(c.coords[a:b])]
        elif c.kind == "path":
            v0, v1 = c.offsets[a], c.offsets[b]
            buffers = [_f32(c.coords[v0:v1]), _u32(c.offsets[a:b + 1] - v0)]
        else:
            r0, r1 = c.geom_offsets[a], c.geom_offsets[b]
            v0, v1 = c.offsets[r0], c.offsets[r1]
            ring_offsets = c.offsets[r0:r1 + 1] - v0
            starts, steps = encode_rings(c.coords[v0:v1], ring_offsets)
            buffers = [_f32(starts), _u32(ring_offsets), _u32(c.geom_offsets[a:b + 1] - r0), memoryview(steps.reshape(-1))]
        yield head, buffers


def _f32(a) -> memoryview:
    return memoryview(np.ascontiguousarray(a, dtype=np.float32).reshape(-1))


def _u32(a) -> memoryview:
    return memoryview(np.ascontiguousarray(a, dtype=np.uint32).reshape(-1))


# -- single shapes (edits, upserts) ----------------------------------------------------------------
def shape_of(geom, kind_hint: str | None = None):
    """(kind, flat coords list, rings or None) of one geometry, or None if it cannot be drawn."""
    if geom is None or shapely.is_empty(geom):
        return None
    gt = geom.geom_type
    if kind_hint == "box" or (gt == "Polygon" and kind_hint is None and _is_rect(geom)):
        x0, y0, x1, y1 = geom.bounds
        return "box", [x0, y0, x1, y1], None
    if gt.startswith("Multi") or gt == "GeometryCollection":
        parts = shapely.get_parts(geom)
        return shape_of(parts[0], kind_hint) if len(parts) else None
    if gt == "Point":
        return "point", [geom.x, geom.y], None
    if gt in ("LineString", "LinearRing"):
        return "path", shapely.get_coordinates(geom).ravel().tolist(), None
    if gt == "Polygon":
        coords, rings = [], []
        for ring in [geom.exterior, *geom.interiors]:
            xy = shapely.get_coordinates(ring)[:-1]
            rings.append(len(coords) // 2)
            coords.extend(xy.ravel().tolist())
        return "polygon", coords, rings if len(rings) > 1 else None
    return None


def _is_rect(p) -> bool:
    if len(p.interiors) or shapely.get_num_coordinates(p) != 5:
        return False
    x0, y0, x1, y1 = p.bounds
    return (x1 - x0) * (y1 - y0) > 0 and abs(p.area - (x1 - x0) * (y1 - y0)) <= 1e-9 * max(1.0, p.area)


def geometry_of(kind: str, coords, rings=None):
    """The shapely geometry for a shape sent by the browser."""
    xy = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    if kind == "box":
        (x0, y0), (x1, y1) = xy[0], xy[1]
        return shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
    if kind == "point":
        return shapely.Point(xy[0])
    if kind == "path":
        return shapely.LineString(xy)
    if kind == "polygon":
        starts = list(rings or [0]) + [len(xy)]
        parts = [xy[starts[i]:starts[i + 1]] for i in range(len(starts) - 1)]
        return shapely.Polygon(parts[0], parts[1:])
    raise ValueError(f"unknown shape kind {kind!r}")
