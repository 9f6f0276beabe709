"""One-to-one matching of two annotators' objects on one image: optimal, not greedy.

Candidate pairs come from one bulk query (a grid hash for rectangles, an STRtree for polygons and
points), their IoU (or distance, for points) is computed for all pairs at once with numpy /
shapely's vectorised functions, pairs below the threshold are dropped, and what is left splits into connected components. Most components are
a single pair (one object each side) and are matched as they are; the few crowded ones are solved
by the Hungarian method (``scipy.optimize.linear_sum_assignment``).

The assignment maximises the number of matches first and, among matchings of that size, the total
IoU (or the closeness of points). COCO's evaluation instead walks detections by score and gives
each the best free ground truth: in crowded places it can match fewer pairs than are possible.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..errors import InvalidValueError

# How each vector type is matched: boxes by the IoU of their rectangles (ellipses are stored as
# their bounding rectangle), polygons by the IoU of their areas, points by distance.
MATCH_KIND = {"box": "box", "fixed_box": "box", "ellipse": "box", "polygon": "polygon", "point": "point"}


@dataclass
class Matches:
    """Index pairs into the two inputs, with the IoU (areas) or distance (points) of each pair."""

    a: np.ndarray
    b: np.ndarray
    value: np.ndarray

    @classmethod
    def empty(cls) -> Matches:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))


def overlapping_box_pairs(a_bounds: np.ndarray, b_bounds: np.ndarray):
    """(ia, ib) of every pair of rectangles that overlap (touching edges count), by a grid hash.

    The cell is as large as the largest rectangle, so a rectangle of b has its lower corner in one
    of the 3 x 3 cells around any rectangle of a it overlaps; each of the nine neighbours is one
    ``searchsorted`` over b sorted by cell. Building shapely boxes and an STRtree for the same
    query took 0.5 s of 1.6 s for 100,000 boxes a side (benchmarks/agreement.py); this takes
    about 0.05 s. A few huge rectangles would make the cells huge: then the STRtree is used.
    """
    lo = np.minimum(a_bounds[:, :2].min(axis=0), b_bounds[:, :2].min(axis=0))
    extent = np.maximum(a_bounds[:, 2:].max(axis=0), b_bounds[:, 2:].max(axis=0)) - lo
    sizes = np.concatenate([a_bounds[:, 2:] - a_bounds[:, :2], b_bounds[:, 2:] - b_bounds[:, :2]])
    cell = float(sizes.max()) if len(sizes) else 0.0
    cells_across = np.floor(extent / cell) + 1 if cell > 0 else np.array([np.inf, np.inf])
    cells = float(np.prod(cells_across))
    if not np.isfinite(cells) or cells > 2.0**60 or 4 * cells < len(b_bounds):
        # points (no size), or so few cells that each holds many rectangles: the tree
        tree = shapely.STRtree(shapely.box(*b_bounds.T))
        return tree.query(shapely.box(*a_bounds.T))
    ny = int(cells_across[1]) + 2  # one spare cell each side, so neighbours never wrap
    b_cell = np.floor((b_bounds[:, :2] - lo) / cell).astype(np.int64) + 1
    b_key = b_cell[:, 0] * ny + b_cell[:, 1]
    order = np.argsort(b_key, kind="stable")
    sorted_keys = b_key[order]
    a_cell = np.floor((a_bounds[:, :2] - lo) / cell).astype(np.int64) + 1
    a_key = a_cell[:, 0] * ny + a_cell[:, 1]
    a_order = np.argsort(a_key, kind="stable")  # sorted queries: searchsorted 10x faster (cache)
    a_key = a_key[a_order]
    ia_parts, ib_parts = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            key = a_key + (dx * ny + dy)
            start = np.searchsorted(sorted_keys, key, side="left")
            count = np.searchsorted(sorted_keys, key, side="right") - start
            ia = np.repeat(a_order, count)
            offsets = np.arange(len(ia)) - np.repeat(np.cumsum(count) - count, count)
            ia_parts.append(ia)
            ib_parts.append(order[np.repeat(start, count) + offsets])
    ia, ib = np.concatenate(ia_parts), np.concatenate(ib_parts)
    a, b = a_bounds[ia], b_bounds[ib]
    touch = (a[:, 0] <= b[:, 2]) & (b[:, 0] <= a[:, 2]) & (a[:, 1] <= b[:, 3]) & (b[:, 1] <= a[:, 3])
    return ia[touch], ib[touch]


def box_iou_pairs(a_bounds: np.ndarray, b_bounds: np.ndarray):
    """(ia, ib, iou) for every pair of rectangles that overlap at all; bounds are (n, 4) arrays."""
    if not len(a_bounds) or not len(b_bounds):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    ia, ib = overlapping_box_pairs(a_bounds, b_bounds)
    a, b = a_bounds[ia], b_bounds[ib]
    w = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
    h = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
    inter = w * h
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a + area_b - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return ia, ib, iou


def polygon_iou_pairs(a_geoms: np.ndarray, b_geoms: np.ndarray):
    """(ia, ib, iou) for every pair of polygons whose bounding boxes overlap."""
    if not len(a_geoms) or not len(b_geoms):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    tree = shapely.STRtree(b_geoms)
    ia, ib = tree.query(a_geoms)
    inter = shapely.area(shapely.intersection(a_geoms[ia], b_geoms[ib]))
    union = shapely.area(a_geoms[ia]) + shapely.area(b_geoms[ib]) - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return ia, ib, iou


def point_distance_pairs(a_xy: np.ndarray, b_xy: np.ndarray, radius: float):
    """(ia, ib, distance) for every pair of points at most ``radius`` apart."""
    if not len(a_xy) or not len(b_xy):
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    tree = shapely.STRtree(shapely.points(b_xy))
    ia, ib = tree.query(shapely.points(a_xy), predicate="dwithin", distance=radius)
    d = np.hypot(*(a_xy[ia] - b_xy[ib]).T)
    return ia, ib, d


def assign(n_a: int, n_b: int, ia: np.ndarray, ib: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Indices (into the pair arrays) of a one-to-one matching with the most pairs and, among those,
    the largest total ``weight`` (every weight in (0, 1])."""
    if not len(ia):
        return np.zeros(0, np.int64)
    graph = coo_matrix((np.ones(len(ia)), (ia, ib + n_a)), shape=(n_a + n_b, n_a + n_b))
    _, label = connected_components(graph, directed=False)
    component = label[ia]
    edges_in = np.bincount(component)
    chosen = [np.flatnonzero(edges_in[component] == 1)]  # a lone pair: both objects have no other
    crowded = np.flatnonzero(edges_in[component] > 1)
    if len(crowded):
        crowded = crowded[np.argsort(component[crowded], kind="stable")]
        starts = np.flatnonzero(np.diff(component[crowded], prepend=-1))
        for edges in np.split(crowded, starts[1:]):
            rows, row_of = np.unique(ia[edges], return_inverse=True)
            cols, col_of = np.unique(ib[edges], return_inverse=True)
            # Count first: any matching with one pair more outweighs every IoU sum of a smaller one.
            big = len(edges) + 1.0
            matrix = np.zeros((len(rows), len(cols)))
            where = np.full((len(rows), len(cols)), -1)
            matrix[row_of, col_of] = big + weight[edges]
            where[row_of, col_of] = edges
            r, c = linear_sum_assignment(matrix, maximize=True)
            keep = matrix[r, c] > 0
            chosen.append(where[r[keep], c[keep]])
    return np.concatenate(chosen)


def match(kind: str, a, b, *, iou: float = 0.5, radius: float | None = None) -> Matches:
    """Match two sets of objects of one kind: ``box`` ((n, 4) bounds), ``polygon`` (shapely arrays)
    or ``point`` ((n, 2) coordinates, needs ``radius``)."""
    if kind == "box":
        ia, ib, value = box_iou_pairs(a, b)
        keep = value >= iou
        weight = value[keep]
    elif kind == "polygon":
        ia, ib, value = polygon_iou_pairs(a, b)
        keep = value >= iou
        weight = value[keep]
    elif kind == "point":
        if radius is None or radius <= 0:
            raise InvalidValueError("points are matched within a radius: give radius= in pixels")
        ia, ib, value = point_distance_pairs(a, b, radius)
        keep = value <= radius
        weight = 1.0 - value[keep] / (2.0 * radius)  # in [0.5, 1]: closer is better
    else:
        raise InvalidValueError(f"no matching for {kind!r}")
    ia, ib, value = ia[keep], ib[keep], value[keep]
    picked = assign(len(a), len(b), ia, ib, weight)
    return Matches(ia[picked], ib[picked], value[picked])
