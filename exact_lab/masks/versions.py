"""Masks across snapshots: which tiles changed (DuckLake's change feed), the pixels added and
removed per class, and putting old tiles back. Cost grows with the change, not with the mask."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from ..store.connection import LAKE
from .tiles import decode_tile
from .tilestore import TABLE, read_tiles, write_levels

DIFF_COLUMNS = ["image_id", "frame", "type_id", "pixels_added", "pixels_removed", "tiles"]


def changed_tiles(con, lo: int, hi: int, image_id: int | None = None, level: int | None = 0):
    """{(image_id, frame, level): [tile_xy]} of tiles written in snapshots (lo, hi]."""
    if hi <= lo:
        return {}
    sql = (f"SELECT DISTINCT image_id, frame, level, tile_x, tile_y "
           f"FROM {LAKE}.table_changes('{TABLE}', ?, ?) WHERE true")
    params: list = [lo + 1, hi]
    if image_id is not None:
        sql += " AND image_id = ?"
        params.append(int(image_id))
    if level is not None:
        sql += " AND level = ?"
        params.append(int(level))
    out = defaultdict(list)
    for i, f, lv, x, y in con.execute(sql, params).fetchall():
        out[(int(i), int(f), int(lv))].append((int(x), int(y)))
    return out


def mask_diff(con, sa: int, sb: int, image_id: int | None = None) -> pd.DataFrame:
    rows = []
    for (img, frame, _), keys in sorted(changed_tiles(con, min(sa, sb), max(sa, sb), image_id).items()):
        before = read_tiles(con, img, frame, 0, keys, snapshot=sa)
        after = read_tiles(con, img, frame, 0, keys, snapshot=sb)
        added, removed, tiles = defaultdict(int), defaultdict(int), defaultdict(int)
        for key in keys:
            old, new = decode_tile(before.get(key)), decode_tile(after.get(key))
            changed = old != new
            if not changed.any():
                continue
            gained = np.bincount(new[changed].ravel())
            lost = np.bincount(old[changed].ravel())
            for cls in set(np.flatnonzero(gained)) | set(np.flatnonzero(lost)):
                if cls == 0:
                    continue
                added[int(cls)] += int(gained[cls]) if cls < len(gained) else 0
                removed[int(cls)] += int(lost[cls]) if cls < len(lost) else 0
                tiles[int(cls)] += 1
        for cls in sorted(tiles):
            rows.append((img, frame, cls, added[cls], removed[cls], tiles[cls]))
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def restore_masks(con, snapshot: int, user: str) -> int:
    """Inside a transaction: every tile changed since ``snapshot`` (any level) as it was then."""
    now = int(con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0])
    by_image: dict[tuple[int, int], dict] = defaultdict(dict)
    count = 0
    for (img, frame, level), keys in changed_tiles(con, min(snapshot, now), max(snapshot, now), None, None).items():
        old = read_tiles(con, img, frame, level, keys, snapshot=snapshot)
        by_image[(img, frame)][level] = {k: decode_tile(old.get(k)) for k in keys}
        count += len(keys)
    for (img, frame), levels in by_image.items():  # every level of an image in one statement pair
        write_levels(con, img, frame, levels, user)
    return count
