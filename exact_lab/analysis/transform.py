"""Geometry between a map and its sources: each patch is a translation plus a scale.

``map_xy = (l0_xy - src_origin) / scale + map_origin`` and back. One mapping row per geometry;
all coordinates are moved in one vectorised pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely


def _affine(geoms, rows: pd.DataFrame, forward: bool) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    present = np.array([g is not None for g in geoms])
    out = np.empty(len(geoms), dtype=object)
    out[:] = None
    if not present.any():
        return out
    sub = geoms[present]
    _, index = shapely.get_coordinates(sub, return_index=True)
    src = rows[["src_x0", "src_y0"]].to_numpy(dtype=float)[present][index]
    dst = rows[["map_x0", "map_y0"]].to_numpy(dtype=float)[present][index]
    scale = rows[["scale_x", "scale_y"]].to_numpy(dtype=float)[present][index]
    if forward:
        out[present] = shapely.transform(sub, lambda xy: (xy - src) / scale + dst)
    else:
        out[present] = shapely.transform(sub, lambda xy: (xy - dst) * scale + src)
    return out


def to_map(l0_geoms, rows: pd.DataFrame) -> np.ndarray:
    """Source geometries (level-0 pixels of their images) into map pixels, row by row."""
    return _affine(l0_geoms, rows, forward=True)


def to_source(map_geoms, rows: pd.DataFrame) -> np.ndarray:
    """Map geometries back into level-0 pixels of each row's source image."""
    return _affine(map_geoms, rows, forward=False)


def map_to_source_xy(map_xy, row) -> tuple[float, float]:
    x, y = map_xy
    return ((x - row["map_x0"]) * row["scale_x"] + row["src_x0"], (y - row["map_y0"]) * row["scale_y"] + row["src_y0"])
