"""RGB pixels of a slide level, read through a per-process cache of tiles on the slide's own grid.

A patch of 256 px on a slide tiled by 240 px touches about four stored tiles; reading it with one
``read_region`` makes OpenSlide composite them (cairo), convert ARGB to RGBA and the caller drop
the alpha, every time, even when the tiles are in OpenSlide's cache. Here each stored tile is read
once (on its second demand), flattened to RGB once, and a patch is numpy copies of the tiles'
parts (measured on CMU-1-Small-Region.svs, 600 random 256 px patches: see docs/datasets.md). The cache is bounded in
bytes and is never pickled: a worker process fills its own.
"""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np

# Per process; 64 MiB holds ~370 RGB tiles of 240 px (a 2,000 x 3,000 px slide whole), and a
# worker's peak memory grows by at most this much.
DEFAULT_BYTES = 64 << 20
# Grid of a slide that does not say how it is stored (pyvips images, videos).
DEFAULT_TILE = 256
WHITE = 255
# Tile keys remembered as wanted once (~100 bytes each).
MAX_SEEN = 100_000


def native_tile_size(slide, level: int) -> tuple[int, int]:
    """The stored tile size of ``level`` (OpenSlide's ``openslide.level[k].tile-width``), else 256."""
    properties = getattr(slide, "properties", None) or {}
    try:
        w = int(properties[f"openslide.level[{level}].tile-width"])
        h = int(properties[f"openslide.level[{level}].tile-height"])
    except (KeyError, ValueError, TypeError):
        return DEFAULT_TILE, DEFAULT_TILE
    return (w, h) if w > 0 and h > 0 else (DEFAULT_TILE, DEFAULT_TILE)


class TileCache:
    """Least recently used RGB tiles, keyed by (slide path, frame, level, col, row)."""

    def __init__(self, max_bytes: int = DEFAULT_BYTES):
        self.max_bytes = int(max_bytes)
        self.bytes = 0
        self._tiles: OrderedDict = OrderedDict()
        self._seen: OrderedDict = OrderedDict()  # tiles wanted once, not yet cached
        self._pid = os.getpid()

    def region(self, slide, level: int, lx: int, ly: int, w: int, h: int, frame: int = 0) -> np.ndarray:
        """h x w x 3 uint8 of ``level`` from level pixel ``(lx, ly)``; outside the level is white.
        A stored tile is cached on its second demand: until then the window is one read_region,
        so patches that share no tile (a large slide, patches far apart) cost what a plain read
        does instead of 2-9 whole tiles each (measured 5x slower when every tile was read)."""
        self._own()
        tw, th = native_tile_size(slide, level)
        lw, lh = slide.level_dimensions[level]
        x0, y0, x1, y1 = max(lx, 0), max(ly, 0), min(lx + w, lw), min(ly + h, lh)
        if x1 <= x0 or y1 <= y0:
            return np.full((h, w, 3), WHITE, np.uint8)
        grid = [(col, row) for row in range(y0 // th, (y1 - 1) // th + 1) for col in range(x0 // tw, (x1 - 1) // tw + 1)]
        keys = [(str(slide.path), frame, level, col, row) for col, row in grid]
        first_seen = [key for key in keys if key not in self._tiles and key not in self._seen]
        if first_seen:
            for key in first_seen:
                self._seen[key] = None
            while len(self._seen) > MAX_SEEN:
                self._seen.popitem(last=False)
            ds = slide.level_downsamples[level]
            return to_rgb(slide.read_region((int(round(lx * ds)), int(round(ly * ds))), level, (w, h), frame))
        out = np.full((h, w, 3), WHITE, np.uint8)
        for (col, row), key in zip(grid, keys):
            tile = self._tile(slide, key, level, col, row, tw, th, lw, lh, frame)
            # the part of this tile inside the wanted window, in level pixels
            tx0, ty0 = max(x0, col * tw), max(y0, row * th)
            tx1, ty1 = min(x1, col * tw + tile.shape[1]), min(y1, row * th + tile.shape[0])
            out[ty0 - ly:ty1 - ly, tx0 - lx:tx1 - lx] = tile[ty0 - row * th:ty1 - row * th, tx0 - col * tw:tx1 - col * tw]
        return out

    def expect(self, keys) -> None:
        """Tiles (``(slide path, frame, level, col, row)``) the caller knows will be wanted again:
        each is cached on its first demand, skipping the one direct read."""
        self._own()
        for key in keys:
            if key not in self._tiles:
                self._seen[key] = None
        while len(self._seen) > MAX_SEEN:
            self._seen.popitem(last=False)

    def _own(self) -> None:
        if os.getpid() != self._pid:  # a forked worker starts empty rather than with the parent's copy
            self.clear()
            self._pid = os.getpid()

    def _tile(self, slide, key, level, col, row, tw, th, lw, lh, frame) -> np.ndarray:
        tile = self._tiles.get(key)
        if tile is not None:
            self._tiles.move_to_end(key)
            return tile
        ds = slide.level_downsamples[level]
        w, h = min(tw, lw - col * tw), min(th, lh - row * th)
        l0_xy = (int(round(col * tw * ds)), int(round(row * th * ds)))
        tile = to_rgb(slide.read_region(l0_xy, level, (w, h), frame))
        self._tiles[key] = tile
        self.bytes += tile.nbytes
        while self.bytes > self.max_bytes and len(self._tiles) > 1:
            _, dropped = self._tiles.popitem(last=False)
            self.bytes -= dropped.nbytes
        return tile

    def clear(self) -> None:
        self._tiles.clear()
        self._seen.clear()
        self.bytes = 0


def to_rgb(image) -> np.ndarray:
    """H x W x 3 uint8; transparent pixels (outside the slide) on white."""
    array = np.asarray(image)
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.shape[2] == 3:
        return np.ascontiguousarray(array)
    if array[:, :, 3].min() == 255:
        return np.ascontiguousarray(array[:, :, :3])
    rgb = array[:, :, :3].astype(np.uint16)
    alpha = array[:, :, 3:4].astype(np.uint16)
    return ((rgb * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
