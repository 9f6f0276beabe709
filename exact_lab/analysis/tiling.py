"""Tiles for inference: a grid over an image or a region at a chosen scale, with overlap, and each
tile's core — the part of the plane it owns, so that overlapping tiles never both keep an object.

Planes: ``tile_xy`` are pixels of a tile as the model sees it; ``l0_xy`` level-0 pixels of the
image; ``l0 = tile_origin + tile_xy * downsample``. Consecutive tiles start ``tile - overlap``
tile pixels apart; the border between two cores is the middle of their overlap, so cores
partition the region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidValueError


@dataclass(frozen=True)
class TilePlan:
    image_id: int
    path: str
    tile_size: int
    overlap: int
    downsample: float
    region: tuple[float, float, float, float]  # level-0 x0, y0, x1, y1
    origins: np.ndarray  # n x 2 level-0 top-left of each tile
    cores: np.ndarray  # n x 4 level-0 x0, y0, x1, y1 each tile owns
    inner: np.ndarray  # n x 4 bools: left, top, right, bottom edge lies inside the region

    def __len__(self) -> int:
        return len(self.origins)

    @property
    def l0_tile(self) -> float:
        """A tile's side in level-0 pixels."""
        return self.tile_size * self.downsample


def _starts(length_px: float, tile: int, stride: int) -> np.ndarray:
    count = max(1, math.ceil(max(length_px - tile, 0) / stride) + 1)
    return np.arange(count) * stride


def plan_tiles(image_id: int, path: str, width: int, height: int, *, tile_size: int = 512, overlap: int = 64,
               downsample: float = 1.0, region=None) -> TilePlan:
    if tile_size < 16:
        raise InvalidValueError(f"tile_size must be at least 16 pixels, got {tile_size!r}")
    if not 0 <= overlap < tile_size // 2:
        raise InvalidValueError(f"overlap must be in [0, tile_size / 2), got {overlap!r}")
    x0, y0, x1, y1 = (0.0, 0.0, float(width), float(height)) if region is None else (float(v) for v in region)
    x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(width), x1), min(float(height), y1)
    if x1 <= x0 or y1 <= y0:
        raise InvalidValueError(f"region {region!r} holds no pixel of the {width} x {height} image")
    stride = tile_size - overlap
    xs = _starts((x1 - x0) / downsample, tile_size, stride)
    ys = _starts((y1 - y0) / downsample, tile_size, stride)
    gx, gy = np.meshgrid(xs, ys)
    tile_xy = np.column_stack([gx.ravel(), gy.ravel()]).astype(float)
    origins = np.array([x0, y0]) + tile_xy * downsample
    half = overlap / 2 * downsample
    far = origins + tile_size * downsample
    first_x, first_y = tile_xy[:, 0] == 0, tile_xy[:, 1] == 0
    last_x, last_y = tile_xy[:, 0] == xs[-1], tile_xy[:, 1] == ys[-1]
    cores = np.column_stack([
        np.where(first_x, x0, origins[:, 0] + half), np.where(first_y, y0, origins[:, 1] + half),
        np.where(last_x, x1, far[:, 0] - half), np.where(last_y, y1, far[:, 1] - half),
    ])
    inner = np.column_stack([~first_x, ~first_y, ~last_x, ~last_y])
    return TilePlan(int(image_id), str(path), int(tile_size), int(overlap), float(downsample),
                    (x0, y0, x1, y1), origins, cores, inner)


def downsample_for(slide, level: int | None, mpp: float | None) -> float:
    """Level-0 pixels per tile pixel for ``level`` or ``mpp`` (microns per tile pixel)."""
    if mpp is not None:
        if not slide.mpp:
            raise InvalidValueError(f"{slide.path.name} records no microns per pixel; use level= instead of mpp=")
        return float(mpp) / float(slide.mpp)
    level = int(level or 0)
    if not 0 <= level < slide.level_count:
        raise InvalidValueError(f"level {level} outside 0..{slide.level_count - 1} of {slide.path.name}")
    return float(slide.level_downsamples[level])
