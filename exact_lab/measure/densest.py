"""The square of a given area holding the most annotation centres.

Some best square has its left edge on a centre's x and its top edge on a centre's y (or against
the image's far edge). Up to ``EXACT_UP_TO`` centres every such left edge is tried, with a sorted
sweep over the tops (exact). Beyond that, centres are binned into cells of 1/16 of the side, a
summed-area table gives every window of 16 x 16 cells at once, and the best one is refined on the
centres around it (within a cell of the best).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidValueError
from .fov import HPF10_MM2, mm2_per_pixel

CELLS = 16
EXACT_UP_TO = 5000


def densest_area(project, image, types=None, area_mm2: float = HPF10_MM2, *, frame: int | None = 0,
                 version=None) -> dict:
    record = project.image(image)
    if area_mm2 <= 0:
        raise InvalidValueError(f"area_mm2 must be > 0, got {area_mm2!r}")
    side = math.sqrt(area_mm2 / mm2_per_pixel(record["mpp"], image))  # level-0 pixels
    width, height = float(record["width"]), float(record["height"])
    rows = project.annotations(image=record["image_id"], types=types, version=version)
    if frame is not None:
        rows = rows[rows["frame"].fillna(0).astype(int) == int(frame)]
    cx = ((rows["xmin"] + rows["xmax"]) / 2).to_numpy()
    cy = ((rows["ymin"] + rows["ymax"]) / 2).to_numpy()
    if side >= max(width, height):
        x0 = y0 = 0.0
    elif not len(cx):
        x0 = y0 = 0.0
    else:
        x0, y0 = best_window(cx, cy, side, width, height)
    x0 = float(min(max(0.0, x0), max(0.0, width - side)))
    y0 = float(min(max(0.0, y0), max(0.0, height - side)))
    bounds = (x0, y0, x0 + side, y0 + side)
    inside = (cx >= bounds[0]) & (cx < bounds[2]) & (cy >= bounds[1]) & (cy < bounds[3])
    counts = rows.loc[inside, "type"].value_counts().sort_index()
    return {"image_id": int(record["image_id"]), "bounds": bounds, "side": side, "area_mm2": area_mm2,
            "count": int(inside.sum()), "counts": counts.astype(int).to_dict()}


def best_window(cx: np.ndarray, cy: np.ndarray, side: float, width: float, height: float) -> tuple[float, float]:
    if len(cx) <= EXACT_UP_TO:
        return exact_window(cx, cy, side, width, height)
    return binned_window(cx, cy, side, width, height)


def exact_window(cx, cy, side, width, height) -> tuple[float, float]:
    best = (-1, 0.0, 0.0)
    max_left, max_top = max(0.0, width - side), max(0.0, height - side)
    for left in np.unique(np.minimum(cx, max_left)):
        ys = np.sort(cy[(cx >= left) & (cx < left + side)])
        if len(ys) <= best[0]:
            continue
        tops = np.minimum(ys, max_top)
        counts = np.searchsorted(ys, tops + side, "left") - np.searchsorted(ys, tops, "left")
        k = int(np.argmax(counts))
        if counts[k] > best[0]:
            best = (int(counts[k]), float(left), float(tops[k]))
    return best[1], best[2]


def binned_window(cx, cy, side, width, height) -> tuple[float, float]:
    cell = side / CELLS
    nx, ny = int(math.ceil(width / cell)), int(math.ceil(height / cell))
    grid, _, _ = np.histogram2d(cy, cx, bins=(ny, nx), range=((0, ny * cell), (0, nx * cell)))
    table = np.zeros((ny + 1, nx + 1))
    table[1:, 1:] = grid.cumsum(0).cumsum(1)
    k = CELLS
    sums = table[k:, k:] - table[:-k, k:] - table[k:, :-k] + table[:-k, :-k]
    if sums.size == 0:
        return 0.0, 0.0
    r, c = np.unravel_index(int(np.argmax(sums)), sums.shape)
    # exact refinement near the coarse best: windows whose left / top edge sits on a centre
    near = (cx >= (c - 1) * cell) & (cx <= (c + 1) * cell) & (cy >= (r - 1) * cell) & (cy <= (r + 1) * cell)
    best = (int(sums[r, c]), c * cell, r * cell)
    for left in np.r_[c * cell, cx[near]]:
        for top in np.r_[r * cell, cy[near]]:
            left_, top_ = min(left, max(0.0, width - side)), min(top, max(0.0, height - side))
            n = int(((cx >= left_) & (cx < left_ + side) & (cy >= top_) & (cy < top_ + side)).sum())
            if n > best[0]:
                best = (n, left_, top_)
    return best[1], best[2]
