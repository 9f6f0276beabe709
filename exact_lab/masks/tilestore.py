"""The ``mask_tiles`` table: reading tiles (at a snapshot), writing them, and applying paint
operations inside one transaction of the store. Every function takes the transaction's
connection, so a mask edit is one DuckLake snapshot together with whatever else the caller writes.

A paint operation is applied to the tile as stored *inside* the transaction: when two writers
paint the same tile, DuckLake refuses the second commit (both deleted the same row), the store's
retry runs the work again on the first writer's tile, and nothing is lost.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa

from ..store.util import utcnow
from .tiles import TILE, decode_tile, downsample, encode_tile, top_level

TABLE = "mask_tiles"
# Tile column and row packed into one BIGINT key, so a set of tiles is one list parameter.
_KEY_SHIFT = 1 << 24  # tile_x is INT32 in the table: the key is computed as BIGINT (tile_x >= 128 overflowed)
_LEVEL_SHIFT = 1 << 48  # (level, tile_x, tile_y) in one BIGINT: tile_x * 2**24 + tile_y < 2**48
_LEVEL_KEY = f"level::BIGINT * {_LEVEL_SHIFT} + tile_x::BIGINT * {_KEY_SHIFT} + tile_y"

# DuckLake settings of the table (set when a project is created, project._ensure_schema):
# - a commit of more than 16 rows (a set_mask over a few tiles, with its pyramid) goes to a
#   Parquet file of its own instead of the catalog: inlined tile bytes left the SQLite catalog
#   7.7 MB large (its free pages) after maintain() had moved them to Parquet, doubling the
#   folder at 40k x 32k; a brush stroke (1 to 4 tiles and their parents) stays inlined.
# - no Parquet compression: the tile bytes are zstd already.
# (A row-group size of 64 rows was tried: DuckDB kept one row group per insert, 86 to 90 rows.)
TABLE_OPTIONS = {"data_inlining_row_limit": 16, "parquet_compression": "uncompressed"}


def pack(tile_xy) -> int:
    return int(tile_xy[0]) * _KEY_SHIFT + int(tile_xy[1])


def pack_level(level: int, tile_xy) -> int:
    return int(level) * _LEVEL_SHIFT + pack(tile_xy)


def _at(snapshot: int | None) -> str:
    return "" if snapshot is None else f" AT (VERSION => {int(snapshot)})"


def read_tiles(con, image_id: int, frame: int, level: int, keys=None, *, bounds=None,
               snapshot: int | None = None) -> dict[tuple[int, int], bytes]:
    """Stored bytes of the tiles ``keys`` (tile_xy pairs) or of the tile range ``bounds``
    ((tx0, ty0, tx1, ty1), inclusive) at one level; absent tiles are unpainted."""
    sql = f"SELECT tile_x, tile_y, data FROM {TABLE}{_at(snapshot)} WHERE image_id = ? AND frame = ? AND level = ?"
    params: list = [int(image_id), int(frame), int(level)]
    if keys is not None:
        keys = list(keys)
        if not keys:
            return {}
        sql += f" AND tile_x::BIGINT * {_KEY_SHIFT} + tile_y IN (SELECT unnest(?::BIGINT[]))"
        params.append([pack(k) for k in keys])
    if bounds is not None:
        sql += " AND tile_x BETWEEN ? AND ? AND tile_y BETWEEN ? AND ?"
        params += [int(bounds[0]), int(bounds[2]), int(bounds[1]), int(bounds[3])]
    rows = con.execute(sql, params).fetchall()
    return {(int(x), int(y)): bytes(data) for x, y, data in rows}


def read_level_tiles(con, image_id: int, frame: int, keys) -> dict[tuple[int, tuple[int, int]], bytes]:
    """Stored bytes of the tiles ``keys`` ((level, tile_xy) pairs, any levels) in one query."""
    keys = list(keys)
    if not keys:
        return {}
    rows = con.execute(
        f"SELECT level, tile_x, tile_y, data FROM {TABLE} WHERE image_id = ? AND frame = ? "
        f"AND {_LEVEL_KEY} IN (SELECT unnest(?::BIGINT[]))",
        [int(image_id), int(frame), [pack_level(lv, k) for lv, k in keys]]).fetchall()
    return {(int(lv), (int(x), int(y))): bytes(data) for lv, x, y, data in rows}


def write_tiles(con, image_id: int, frame: int, level: int, tiles: dict, user: str) -> None:
    """Replace the tiles ``{tile_xy: array}`` of one level; an all-zero tile is deleted, not stored."""
    write_levels(con, image_id, frame, {level: tiles}, user)


def write_levels(con, image_id: int, frame: int, levels: dict, user: str) -> None:
    """Replace the tiles ``{level: {tile_xy: array}}`` with one DELETE and one INSERT, so a
    set_mask and its whole pyramid are one data file (and one delete file) of the snapshot,
    not one per level; an all-zero tile is deleted, not stored."""
    write_encoded(con, image_id, frame, {lv: {k: encode_tile(t) for k, t in tiles.items()} for lv, tiles in levels.items()}, user)


def write_encoded(con, image_id: int, frame: int, levels: dict, user: str) -> None:
    """``write_levels`` of tiles already encoded: ``{level: {tile_xy: bytes or None}}`` (None
    deletes the tile)."""
    keys = [pack_level(lv, k) for lv, tiles in levels.items() for k in tiles]
    if not keys:
        return
    con.execute(f"DELETE FROM {TABLE} WHERE image_id = ? AND frame = ? AND {_LEVEL_KEY} IN (SELECT unnest(?::BIGINT[]))",
                [int(image_id), int(frame), keys])
    # Row order (level, tile row, column) keeps a region's tiles in few Parquet row groups.
    encoded = sorted(((lv, k, d) for lv, tiles in levels.items() for k, d in tiles.items() if d is not None),
                     key=lambda e: (e[0], e[1][1], e[1][0]))
    if not encoded:
        return
    n = len(encoded)
    table = pa.table({
        "image_id": pa.array([int(image_id)] * n, pa.int64()),
        "frame": pa.array([int(frame)] * n, pa.int32()),
        "level": pa.array([lv for lv, _, _ in encoded], pa.int32()),
        "tile_x": pa.array([k[0] for _, k, _ in encoded], pa.int32()),
        "tile_y": pa.array([k[1] for _, k, _ in encoded], pa.int32()),
        "data": pa.array([d for _, _, d in encoded], pa.binary()),
        "editor": pa.array([user] * n, pa.string()),
        "updated_at": pa.array([utcnow()] * n, pa.timestamp("us")),
    })
    con.register("_mask_rows", table)
    try:
        con.execute(f"INSERT INTO {TABLE} SELECT * FROM _mask_rows")
    finally:
        con.unregister("_mask_rows")


# Stored tiles read at a time (their bytes): a fill of a 200,000 px square touches ~150,000
# tiles (512 KB each as uint16 arrays), so a tile is decoded, painted and encoded on its own and
# only bytes are kept.
_BLOCK = 4096


def apply_ops(con, ops: list, sizes: dict[int, tuple[int, int]], user: str) -> dict:
    """Apply paint operations in order to the stored level-0 tiles and bring the levels above up
    to date. ``sizes``: image_id -> (width, height). Returns {(image_id, frame): level-0 tile keys}."""
    by_image: dict[tuple[int, int], list] = defaultdict(list)
    for op in ops:
        by_image[(op.image_id, op.frame)].append(op)
    touched = {}
    for (image_id, frame), group in by_image.items():
        ops_of: dict[tuple[int, int], list] = defaultdict(list)
        for op in group:
            for k in op.tile_keys():
                ops_of[k].append(op)
        keys = sorted(ops_of, key=lambda k: (k[1], k[0]))
        changed: dict[tuple[int, int], bytes | None] = {}
        arrays: dict = {}  # the changed tiles' arrays, while few: the pyramid need not decode them
        for i in range(0, len(keys), _BLOCK):
            block = keys[i:i + _BLOCK]
            stored = read_tiles(con, image_id, frame, 0, block)
            for k in block:
                data, tile = _painted(ops_of[k], k, stored.get(k))
                if data is not _UNCHANGED:
                    changed[k] = data
                    if tile is not None and len(arrays) < _KEEP_ARRAYS:
                        arrays[k] = tile
        levels = {0: changed, **pyramid_above(con, image_id, frame, changed, sizes[image_id], arrays)}
        write_encoded(con, image_id, frame, levels, user)
        touched[(image_id, frame)] = set(changed)
    return touched


_UNCHANGED = object()


def _painted(ops: list, tile_xy, stored: bytes | None):
    """The tile's bytes after ``ops`` (in order) over its ``stored`` bytes, or _UNCHANGED, and
    its array (None for a tile of one value)."""
    start, value = 0, None
    for i, op in enumerate(ops):
        v = op.uniform_over(tile_xy)
        if v is not None:
            start, value = i + 1, v
    before = decode_tile(stored) if stored is not None else None
    if value is not None and start == len(ops):
        # a tile wholly filled: neither painted nor encoded
        same = (value == 0) if before is None else bool((before == value).all())
        return (_UNCHANGED if same else uniform_tile(value)), None
    if value is not None:
        tile = np.full((TILE, TILE), value, np.uint8 if value < 256 else np.uint16)
    else:
        tile = before if before is not None else decode_tile(None)
    for op in ops[start:]:
        tile = op.apply(tile_xy, tile)
    if (not tile.any()) if before is None else np.array_equal(tile, before):
        return _UNCHANGED, None
    return encode_tile(tile), tile


def _child_keys(px: int, py: int):
    return [(2 * px + dx, 2 * py + dy) for dy in (0, 1) for dx in (0, 1)]


# Painted tiles kept as arrays for the pyramid (at most 256 x 512 KB): a set_mask of a 4,096 px
# block changes 64; a larger edit decodes the rest again from their bytes.
_KEEP_ARRAYS = 256

_UNIFORM: dict[int, bytes | None] = {}


def uniform_tile(value: int) -> bytes | None:
    """The bytes of a tile holding ``value`` everywhere (one object per value: a parent of four
    of them is one too, found by identity)."""
    if value not in _UNIFORM:
        _UNIFORM[value] = encode_tile(np.full((TILE, TILE), value, np.uint8 if value < 256 else np.uint16))
    return _UNIFORM[value]


def _uniform_value(data: bytes | None) -> int | None:
    if data is None:
        return 0
    for v, d in _UNIFORM.items():
        if d is data:
            return v
    return None


def pyramid_above(con, image_id: int, frame: int, level0: dict, size: tuple[int, int], arrays=None) -> dict:
    """The parents of the changed level-0 tiles ``level0`` ({tile_xy: bytes or None}) at every
    level up to the top, {level: {tile_xy: bytes or None}}, with their unchanged siblings read
    from the store in one query (which siblings are needed follows from the level-0 keys alone).
    Four children holding one value make a parent holding it, without decoding them; ``arrays``
    ({tile_xy: array}) holds some of the level-0 tiles already decoded."""
    top = top_level(*size)
    changed_keys = {0: set(level0)}
    for level in range(1, top + 1):
        changed_keys[level] = {(x // 2, y // 2) for x, y in changed_keys[level - 1]}
    siblings = [(level - 1, (2 * px + dx, 2 * py + dy))
                for level in range(1, top + 1) for px, py in changed_keys[level]
                for dy in (0, 1) for dx in (0, 1) if (2 * px + dx, 2 * py + dy) not in changed_keys[level - 1]]
    stored = read_level_tiles(con, image_id, frame, siblings) if level0 else {}
    out, below, below_arrays = {}, level0, dict(arrays or {})
    for level in range(1, top + 1):
        if not below:
            break
        current, current_arrays = {}, {}
        for px, py in sorted(changed_keys[level]):
            children = []
            for dy in (0, 1):
                for dx in (0, 1):
                    key = (2 * px + dx, 2 * py + dy)
                    children.append(((dx, dy), below[key] if key in below else stored.get((level - 1, key))))
            values = {_uniform_value(d) for _, d in children}
            if len(values) == 1 and None not in values:
                current[(px, py)] = uniform_tile(values.pop()) if values != {0} else None
            else:
                parent = downsample({xy: below_arrays[key] if key in below_arrays else decode_tile(d)
                                     for (xy, d), key in zip(children, _child_keys(px, py)) if d is not None})
                current[(px, py)] = encode_tile(parent)
                if len(current_arrays) < _KEEP_ARRAYS:
                    current_arrays[(px, py)] = parent
        out[level] = current
        below, below_arrays = current, current_arrays
    return out


def read_region(con, image_id: int, frame: int, level: int, lk_box, snapshot: int | None = None) -> np.ndarray:
    """The label image at ``level`` over ``lk_box`` = (x0, y0, x1, y1) in that level's pixels."""
    x0, y0, x1, y1 = (int(v) for v in lk_box)
    bounds = (x0 // TILE, y0 // TILE, (x1 - 1) // TILE, (y1 - 1) // TILE)
    stored = read_tiles(con, image_id, frame, level, bounds=bounds, snapshot=snapshot)
    tiles = {k: decode_tile(d) for k, d in stored.items()}
    dtype = np.result_type(np.uint8, *(t.dtype for t in tiles.values())) if tiles else np.uint8
    out = np.zeros((y1 - y0, x1 - x0), dtype=dtype)
    for (tx, ty), tile in tiles.items():
        ox, oy = tx * TILE, ty * TILE
        ix0, iy0, ix1, iy1 = max(x0, ox), max(y0, oy), min(x1, ox + TILE), min(y1, oy + TILE)
        out[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = tile[iy0 - oy:iy1 - oy, ix0 - ox:ix1 - ox]
    return out
