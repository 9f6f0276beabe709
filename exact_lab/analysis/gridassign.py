"""Every point on its own grid cell, as close to where it lies as the grid allows.

The cost is the sum of squared distances between points (scaled to grid units) and their cells'
centres. Solving it as one assignment problem is out of reach for 20,000 points (a dense 20,000 x
24,000 cost matrix alone is 3.8 GB), so: split the grid and the points in two along the longer
side, each point staying on its side unless that side is full (then the points nearest the cut
cross), down to blocks of at most ``LEAF`` cells; solve each block exactly (scipy's
linear_sum_assignment); then re-solve windows straddling the block borders, twice, shifted by half
a window. Every re-solve is optimal for the points and cells of its window, so the cost only
falls. A greedy snap (each point, in turn, to the nearest free cell) is the peer it must beat:
clusters drift as their later points find their neighbourhood taken.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial import cKDTree

from ..errors import InvalidValueError

LEAF = 256
WINDOW = 24  # cells on a side of a refinement window
SLACK = 0.25  # the grid has this many more cells than points


def grid_shape(points: np.ndarray, slack: float = SLACK) -> tuple[int, int]:
    """(columns, rows): about (1 + slack) * n cells with the points' aspect ratio (at most 4:1)."""
    n = len(points)
    span = np.ptp(points, axis=0) if n else np.ones(2)
    aspect = float(np.clip((span[0] + 1e-9) / (span[1] + 1e-9), 0.25, 4.0))
    cells = max(1, math.ceil(n * (1 + slack)))
    columns = max(1, round(math.sqrt(cells * aspect)))
    rows = max(1, math.ceil(cells / columns))
    return columns, rows


def to_grid_units(points: np.ndarray, columns: int, rows: int) -> np.ndarray:
    """Points scaled into [0, columns] x [0, rows] (cell (c, r) has its centre at (c + .5, r + .5))."""
    lo = points.min(axis=0)
    span = np.maximum(np.ptp(points, axis=0), 1e-12)
    return (points - lo) / span * np.array([columns, rows], dtype=float)


def cell_centres(cells: np.ndarray, columns: int) -> np.ndarray:
    return np.column_stack([cells % columns + 0.5, cells // columns + 0.5])


def cost(xy: np.ndarray, cells: np.ndarray, columns: int) -> float:
    """Sum of squared distances from each point (grid units) to its cell's centre."""
    return float(((xy - cell_centres(cells, columns)) ** 2).sum())


def _solve(xy: np.ndarray, cells: np.ndarray, columns: int) -> np.ndarray:
    """The optimal choice among ``cells`` (at least as many as points) for the points ``xy``."""
    d = xy[:, None, :] - cell_centres(cells, columns)[None, :, :]
    rows, cols = linear_sum_assignment((d ** 2).sum(axis=2))
    out = np.empty(len(xy), dtype=np.int64)
    out[rows] = cells[cols]
    return out


def _packed_count(sorted_along: np.ndarray, depth: int, mid: float) -> int:
    """How many points lie before ``mid`` when the sorted points are packed along the axis as
    close to their positions as possible, each taking 1/depth of a unit: minimise
    sum (x_i - s_i)^2 with s_{i+1} >= s_i + 1/depth, an isotonic regression of x_i - i/depth."""
    from sklearn.isotonic import isotonic_regression

    step = np.arange(len(sorted_along)) / depth
    packed = isotonic_regression(sorted_along - step) + step
    return int(np.searchsorted(packed + 0.5 / depth, mid))


def _split(xy, idx, c0, r0, c1, r1, columns, out) -> None:
    n_cells = (c1 - c0) * (r1 - r0)
    if n_cells <= LEAF or len(idx) <= 1:
        cc, rr = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
        cells = (rr * columns + cc).ravel()
        if len(idx):
            out[idx] = _solve(xy[idx], cells, columns)
        return
    axis = 0 if (c1 - c0) >= (r1 - r0) else 1
    if axis == 0:
        mid = (c0 + c1) // 2
        cap_a, cap_b = (mid - c0) * (r1 - r0), (c1 - mid) * (r1 - r0)
    else:
        mid = (r0 + r1) // 2
        cap_a, cap_b = (c1 - c0) * (mid - r0), (c1 - c0) * (r1 - mid)
    along = xy[idx, axis]
    order = np.argsort(along, kind="stable")
    depth = (r1 - r0) if axis == 0 else (c1 - c0)  # cells across the strip: points per unit along it
    take = int(np.clip(_packed_count(along[order], depth, mid), len(idx) - cap_b, cap_a))
    a, b = idx[order[:take]], idx[order[take:]]
    if axis == 0:
        _split(xy, a, c0, r0, mid, r1, columns, out)
        _split(xy, b, mid, r0, c1, r1, columns, out)
    else:
        _split(xy, a, c0, r0, c1, mid, columns, out)
        _split(xy, b, c0, mid, c1, r1, columns, out)


def _refine(xy, cells, columns, rows, offset) -> None:
    owner = np.full(columns * rows, -1, dtype=np.int64)
    owner[cells] = np.arange(len(cells))
    for r0 in range(-offset, rows, WINDOW):
        for c0 in range(-offset, columns, WINDOW):
            cc, rr = np.meshgrid(np.arange(max(c0, 0), min(c0 + WINDOW, columns)),
                                 np.arange(max(r0, 0), min(r0 + WINDOW, rows)))
            window = (rr * columns + cc).ravel()
            members = owner[window]
            members = members[members >= 0]
            if len(members) < 2:
                continue
            new = _solve(xy[members], window, columns)
            owner[cells[members]] = -1
            cells[members] = new
            owner[new] = members


def assign(points: np.ndarray, columns: int, rows: int, *, refine: int = 2) -> np.ndarray:
    """Cell index (row * columns + col) for each point; no two points share a cell."""
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[1] != 2:
        raise InvalidValueError(f"a layout needs N x 2 positions, got {points.shape}")
    if len(points) > columns * rows:
        raise InvalidValueError(f"{len(points)} points do not fit {columns} x {rows} cells")
    xy = to_grid_units(points, columns, rows)
    cells = np.empty(len(points), dtype=np.int64)
    _split(xy, np.arange(len(points)), 0, 0, columns, rows, columns, cells)
    for i in range(refine):
        _refine(xy, cells, columns, rows, (WINDOW // 2) if i % 2 == 0 else 0)
    return cells


def greedy_snap(points: np.ndarray, columns: int, rows: int) -> np.ndarray:
    """The peer: each point in turn takes the nearest free cell."""
    xy = to_grid_units(np.asarray(points, dtype=float), columns, rows)
    centres = cell_centres(np.arange(columns * rows), columns)
    tree = cKDTree(centres)
    free = np.ones(len(centres), dtype=bool)
    out = np.empty(len(xy), dtype=np.int64)
    for i, p in enumerate(xy):
        k = 8
        while True:
            _, near = tree.query(p, k=min(k, len(centres)))
            near = np.atleast_1d(near)
            ok = near[free[near]]
            if len(ok):
                out[i] = ok[0]
                free[ok[0]] = False
                break
            k *= 4
    return out
