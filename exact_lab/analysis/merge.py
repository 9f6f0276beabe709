"""One proposal per object, whichever tiles saw it.

An object whole in a tile (not ``truncated``) is kept by the tile whose core holds its centre:
cores partition the region, so an object seen whole by two overlapping tiles is kept once. A cut
piece (touching an inner tile edge) is dropped when a whole copy covers it; pieces of an object
larger than the overlap, never whole in any tile, are joined into one (boxes: their union box;
polygons: their union). Last, non-maximum suppression removes what still overlaps by more than
``iou`` within a type (objects a model outlines slightly differently in two tiles).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .outputs import empty
from .tiling import TilePlan

COVERED = 0.5  # a cut piece this much inside a whole object is part of it
NMS_IOU = 0.5


def _centre_owned(rows: pd.DataFrame, plan: TilePlan) -> np.ndarray:
    cx = (rows["xmin"].to_numpy(float) + rows["xmax"].to_numpy(float)) / 2
    cy = (rows["ymin"].to_numpy(float) + rows["ymax"].to_numpy(float)) / 2
    core = plan.cores[rows["tile"].to_numpy(np.int64)]
    return (core[:, 0] <= cx) & (cx < core[:, 2]) & (core[:, 1] <= cy) & (cy < core[:, 3])


def _overlaps(geoms_a, geoms_b):
    """Index pairs (i, j) of intersecting geometries (an STRtree query)."""
    if not len(geoms_a) or not len(geoms_b):
        return np.zeros((2, 0), dtype=np.int64)
    return shapely.STRtree(geoms_b).query(geoms_a, predicate="intersects")


def _join_pieces(pieces: pd.DataFrame, boxes: bool) -> pd.DataFrame:
    geoms = pieces["geometry"].to_numpy()
    i, j = _overlaps(geoms, geoms)
    same = pieces["type"].to_numpy()[i] == pieces["type"].to_numpy()[j]
    n = len(pieces)
    graph = coo_matrix((np.ones(same.sum()), (i[same], j[same])), shape=(n, n))
    _, group = connected_components(graph, directed=False)
    out = []
    for g in np.unique(group):
        members = pieces[group == g]
        best = members.iloc[int(np.nanargmax(members["score"].to_numpy(float)))] if members["score"].notna().any() \
            else members.iloc[0]
        shape = shapely.box(*shapely.total_bounds(members["geometry"].to_numpy())) if boxes \
            else shapely.union_all(members["geometry"].to_numpy())
        if shape.geom_type == "MultiPolygon":  # touching only at a corner: keep the largest part
            shape = max(shape.geoms, key=lambda p: p.area)
        row = best.copy()
        row["geometry"] = shape
        row["xmin"], row["ymin"], row["xmax"], row["ymax"] = shape.bounds
        row["score"] = members["score"].max()
        out.append(row)
    return pd.DataFrame(out)


def suppress(rows: pd.DataFrame, iou: float = NMS_IOU) -> pd.DataFrame:
    """Greedy non-maximum suppression within each type, highest score first."""
    if len(rows) < 2:
        return rows
    order = np.argsort(-np.nan_to_num(rows["score"].to_numpy(float), nan=-1.0), kind="stable")
    rows = rows.iloc[order].reset_index(drop=True)
    geoms = rows["geometry"].to_numpy()
    i, j = _overlaps(geoms, geoms)
    keep_pair = (i < j) & (rows["type"].to_numpy()[i] == rows["type"].to_numpy()[j])
    i, j = i[keep_pair], j[keep_pair]
    inter = shapely.area(shapely.intersection(geoms[i], geoms[j]))
    union = shapely.area(geoms[i]) + shapely.area(geoms[j]) - inter
    heavy = inter > iou * np.maximum(union, 1e-12)
    i, j = i[heavy], j[heavy]
    alive = np.ones(len(rows), dtype=bool)
    for a, b in sorted(zip(i, j)):  # a has the higher score
        if alive[a]:
            alive[b] = False
    return rows[alive]


def merge(rows: pd.DataFrame, plan: TilePlan, kind: str, *, boxes: bool = True, iou: float = NMS_IOU) -> pd.DataFrame:
    if rows.empty:
        return empty()
    if kind == "classification":
        return rows.reset_index(drop=True)
    truncated = rows["truncated"].to_numpy(bool)
    seen_whole = rows[~truncated]
    whole = seen_whole[_centre_owned(seen_whole, plan)]
    pieces = rows[truncated].reset_index(drop=True)
    if len(pieces) and len(seen_whole):
        i, j = _overlaps(pieces["geometry"].to_numpy(), seen_whole["geometry"].to_numpy())
        same = pieces["type"].to_numpy()[i] == seen_whole["type"].to_numpy()[j]
        i, j = i[same], j[same]
        inside = shapely.area(shapely.intersection(pieces["geometry"].to_numpy()[i], seen_whole["geometry"].to_numpy()[j]))
        covered = np.zeros(len(pieces), dtype=bool)
        covered[i[inside >= COVERED * shapely.area(pieces["geometry"].to_numpy()[i])]] = True
        pieces = pieces[~covered]
    if len(pieces):
        pieces = _join_pieces(pieces.reset_index(drop=True), boxes)
    merged = pd.concat([whole, pieces], ignore_index=True) if len(pieces) else whole.reset_index(drop=True)
    return suppress(merged, iou).reset_index(drop=True)
