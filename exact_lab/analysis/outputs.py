"""What a model returns for a batch, turned into rows in level-0 pixels, one kind at a time.

Rows carry ``tile`` (index in the plan), ``type``, ``score``, ``geometry`` (shapely, level-0),
``xmin .. ymax`` and ``truncated``: True when the object touches a tile edge that lies inside the
region (the neighbouring tile sees more of it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from ..errors import InvalidValueError
from .classify import probabilities_meta
from .tiling import TilePlan

KINDS = ("detection", "segmentation", "classification")
COLUMNS = ["tile", "type", "score", "geometry", "xmin", "ymin", "xmax", "ymax", "truncated", "meta"]
EDGE = 1.0  # tile pixels: an object this close to an inner tile edge is cut by it


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


def _to_l0(plan: TilePlan, tiles: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    origin = plan.origins[tiles]
    _, index = shapely.get_coordinates(geoms, return_index=True)
    shift, ds = origin[index], plan.downsample
    return shapely.transform(geoms, lambda xy: shift + xy * ds)


def _truncated(plan: TilePlan, tiles: np.ndarray, bounds_tile_xy: np.ndarray) -> np.ndarray:
    t = plan.tile_size
    inner = plan.inner[tiles]
    return ((inner[:, 0] & (bounds_tile_xy[:, 0] <= EDGE)) | (inner[:, 1] & (bounds_tile_xy[:, 1] <= EDGE))
            | (inner[:, 2] & (bounds_tile_xy[:, 2] >= t - EDGE)) | (inner[:, 3] & (bounds_tile_xy[:, 3] >= t - EDGE)))


def _finish(plan, tiles, geoms_tile_xy, types, scores, metas=None) -> pd.DataFrame:
    if not len(tiles):
        return empty()
    tiles = np.asarray(tiles, dtype=np.int64)
    truncated = _truncated(plan, tiles, shapely.bounds(geoms_tile_xy))
    geoms = _to_l0(plan, tiles, geoms_tile_xy)
    bounds = shapely.bounds(geoms)
    return pd.DataFrame({
        "tile": tiles, "type": types, "score": np.asarray(scores, dtype=float), "geometry": geoms,
        "xmin": bounds[:, 0], "ymin": bounds[:, 1], "xmax": bounds[:, 2], "ymax": bounds[:, 3],
        "truncated": truncated, "meta": metas if metas is not None else [None] * len(tiles),
    })


def detections(plan: TilePlan, tile_ids, result, default_type: str) -> pd.DataFrame:
    if not isinstance(result, (list, tuple)) or len(result) != len(tile_ids):
        raise InvalidValueError(f"a detection model returns a list of {len(tile_ids)} tables (one per tile), "
                                f"got {type(result).__name__}" + (f" of {len(result)}" if hasattr(result, "__len__") else ""))
    tiles, geoms, types, scores = [], [], [], []
    for position, (tile, table) in enumerate(zip(tile_ids, result)):
        table = table if isinstance(table, pd.DataFrame) else pd.DataFrame(list(table))
        if table.empty:
            continue
        if "geometry" in table.columns:
            g = np.asarray(table["geometry"].to_numpy(), dtype=object)
        elif {"xmin", "ymin", "xmax", "ymax"} <= set(table.columns):
            g = shapely.box(table["xmin"].to_numpy(float), table["ymin"].to_numpy(float),
                            table["xmax"].to_numpy(float), table["ymax"].to_numpy(float))
        else:
            raise InvalidValueError(f"tile {position} of the batch: a detection table needs xmin ymin xmax ymax or "
                                    f"geometry (has {', '.join(map(str, table.columns))})")
        if "score" not in table.columns:
            raise InvalidValueError(f"tile {position} of the batch: a detection table needs a score column")
        tiles.append(np.full(len(table), tile))
        geoms.append(g)
        types.append(table["type"].fillna(default_type).to_numpy(object) if "type" in table.columns
                     else np.full(len(table), default_type, dtype=object))
        scores.append(table["score"].to_numpy(float))
    if not tiles:
        return empty()
    return _finish(plan, np.concatenate(tiles), np.concatenate(geoms), np.concatenate(types), np.concatenate(scores))


def segments(plan: TilePlan, tile_ids, result, classes) -> pd.DataFrame:
    """N x H x W class-index masks (0 = background) -> one polygon per connected region."""
    from skimage.measure import find_contours, regionprops
    from skimage.measure import label as label_regions

    masks = np.asarray(result)
    if masks.ndim != 3 or masks.shape[0] != len(tile_ids):
        raise InvalidValueError(f"a segmentation model returns {len(tile_ids)} x H x W class masks, got shape {masks.shape}")
    tiles, geoms, types = [], [], []
    for tile, mask in zip(tile_ids, masks):
        for region in regionprops(label_regions(mask, background=0, connectivity=1), intensity_image=mask):
            y0, x0, y1, x1 = region.bbox
            padded = np.pad(region.image, 1).astype(np.uint8)
            contours = find_contours(padded, 0.5)
            ring = max(contours, key=len)
            polygon = shapely.Polygon(np.column_stack([ring[:, 1] + x0 - 1 + 0.5, ring[:, 0] + y0 - 1 + 0.5]))
            polygon = shapely.make_valid(polygon) if not polygon.is_valid else polygon
            if polygon.geom_type != "Polygon":
                parts = [p for p in getattr(polygon, "geoms", []) if p.geom_type == "Polygon"]
                if not parts:
                    continue
                polygon = max(parts, key=lambda p: p.area)
            if polygon.area <= 0:
                continue
            tiles.append(tile)
            geoms.append(polygon)
            types.append(_class_name(classes, int(region.intensity_max)))
    # contours run along pixel edges (a region of columns x0..x1-1 spans [x0, x1]), as boxes do
    return _finish(plan, np.array(tiles), np.array(geoms, dtype=object), np.array(types, dtype=object),
                   np.full(len(tiles), np.nan))


def classes_per_tile(plan: TilePlan, tile_ids, result, classes) -> pd.DataFrame:
    """N x C probabilities -> one proposal per tile: its core, the likeliest class, uncertainty in meta."""
    probs = np.asarray(result, dtype=float)
    if probs.ndim != 2 or probs.shape[0] != len(tile_ids):
        raise InvalidValueError(f"a classification model returns {len(tile_ids)} x C probabilities, got shape {probs.shape}")
    tile_ids = np.asarray(tile_ids, dtype=np.int64)
    best = probs.argmax(axis=1)
    names = [_class_name(classes, int(b)) for b in best]
    metas = probabilities_meta(probs, [_class_name(classes, c) for c in range(probs.shape[1])])
    top = probs.max(axis=1)
    cores = plan.cores[tile_ids]
    geoms = shapely.box(cores[:, 0], cores[:, 1], cores[:, 2], cores[:, 3])
    return pd.DataFrame({
        "tile": tile_ids, "type": names, "score": top, "geometry": geoms,
        "xmin": cores[:, 0], "ymin": cores[:, 1], "xmax": cores[:, 2], "ymax": cores[:, 3],
        "truncated": False, "meta": metas,
    })


def _class_name(classes, index: int) -> str:
    if classes is None:
        return f"class {index}"
    try:
        return str(classes[index])
    except (IndexError, KeyError):
        raise InvalidValueError(f"the model returned class {index}, beyond its classes {list(classes)!r}") from None


def parse(kind: str, plan: TilePlan, tile_ids, result, *, default_type: str, classes) -> pd.DataFrame:
    if kind == "detection":
        return detections(plan, tile_ids, result, default_type)
    if kind == "segmentation":
        return segments(plan, tile_ids, result, classes)
    return classes_per_tile(plan, tile_ids, result, classes)
