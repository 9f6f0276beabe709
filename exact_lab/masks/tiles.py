"""The label image's tiles: their size, their bytes, the power-of-two pyramid above level 0, and
the paint operations that change them. Pure numpy; nothing here knows the store.

Planes: ``l0_`` level-0 pixels; ``tile_`` tile column / row at a level; ``lk_`` pixels of level k
(level k is level 0 downsampled 2**k times).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zstandard

from ..errors import InvalidValueError

# 512 px: a 4,096 px region is 64 tiles, and a brush stroke touches one to four of them.
TILE = 512
# Level 3 is zstd's default: on painted label tiles it keeps ~95 % of level 19's ratio at ~30x the speed.
_ZSTD_LEVEL = 3
_compressor = zstandard.ZstdCompressor(level=_ZSTD_LEVEL)
_decompressor = zstandard.ZstdDecompressor()


@dataclass(frozen=True)
class MaskOp:
    """Set level-0 pixels of one image and frame: ``values`` (H x W class indices) placed at
    ``l0_xy``; where ``where`` (H x W bool) is given, only those pixels change."""

    image_id: int
    frame: int
    l0_xy: tuple[int, int]
    values: np.ndarray
    where: np.ndarray | None = None

    @property
    def l0_box(self) -> tuple[int, int, int, int]:
        x0, y0 = self.l0_xy
        return (x0, y0, x0 + self.values.shape[1], y0 + self.values.shape[0])

    def classes(self) -> np.ndarray:
        """The class indices it may write (checked against the project's mask types)."""
        return self.values

    def uniform_over(self, tile_xy) -> int | None:
        """The value the whole tile has after this op whatever it held (None: not known to be one)."""
        return None

    def tile_keys(self) -> list[tuple[int, int]]:
        x0, y0 = self.l0_xy
        h, w = self.values.shape
        return [(tx, ty) for ty in range(y0 // TILE, (y0 + h - 1) // TILE + 1)
                for tx in range(x0 // TILE, (x0 + w - 1) // TILE + 1)]

    def apply(self, tile_xy: tuple[int, int], tile: np.ndarray) -> np.ndarray:
        """The level-0 tile ``tile_xy`` with this op's pixels written into it (a new array)."""
        x0, y0 = self.l0_xy
        h, w = self.values.shape
        tx0, ty0 = tile_xy[0] * TILE, tile_xy[1] * TILE
        ix0, iy0 = max(x0, tx0), max(y0, ty0)
        ix1, iy1 = min(x0 + w, tx0 + TILE), min(y0 + h, ty0 + TILE)
        out = tile.astype(np.result_type(tile.dtype, self.values.dtype), copy=True)
        if ix1 <= ix0 or iy1 <= iy0:
            return out
        src = (slice(iy0 - y0, iy1 - y0), slice(ix0 - x0, ix1 - x0))
        dst = (slice(iy0 - ty0, iy1 - ty0), slice(ix0 - tx0, ix1 - tx0))
        if self.where is None:
            out[dst] = self.values[src]
        else:
            np.copyto(out[dst], self.values[src], where=self.where[src])
        return out


def check_labels(array, what: str = "mask") -> np.ndarray:
    """A 2-D array of class indices (0 = unlabelled) as uint8 or uint16, or InvalidValueError."""
    array = np.asarray(array)
    if array.ndim != 2:
        raise InvalidValueError(f"a {what} must be a 2-D array of class indices, got shape {array.shape}")
    if array.dtype == bool:
        return array.astype(np.uint8)
    if not np.issubdtype(array.dtype, np.integer):
        raise InvalidValueError(f"a {what} must hold integer class indices, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() > 65535):
        raise InvalidValueError(f"{what} class indices must be 0..65535, got {array.min()}..{array.max()}")
    return array.astype(np.uint8 if not array.size or array.max() < 256 else np.uint16, copy=False)


def blank(dtype=np.uint8) -> np.ndarray:
    return np.zeros((TILE, TILE), dtype=dtype)


# Tile bytes: one leading byte gives the layout, then zstd bytes.
#   1 / 2: the raw uint8 / uint16 pixels (row-major);
#   3 / 4: the tile's row runs (uint8 / uint16 values): the run values, then the run lengths,
#          each split into byte planes (high bytes, then low bytes), so zstd sees long stretches
#          of equal high bytes. Runs end at every row's end, so the lengths alone place them.
# Painted label tiles are long runs: on the benchmark's blob tiles (40k x 32k, 2026-12-02) the
# runs at zstd level 6 took 2.20 MB where the raw pixels at level 3 took 3.71 MB (zarr's figure),
# and 1.72 MB where raw took 3.11 MB on the pyramid's levels (1 to 7), whose tiles hold twice the
# edges per pixel of the level below. Noise-like tiles (short runs) stay raw.
_RAW8, _RAW16, _RUNS8, _RUNS16 = b"\x01", b"\x02", b"\x03", b"\x04"
_RUNS_ZSTD_LEVEL = 6  # runs are ~10x smaller than the pixels: level 6 costs ~1 ms a tile, level 3 gives 5 % more bytes
_runs_compressor = zstandard.ZstdCompressor(level=_RUNS_ZSTD_LEVEL)
# Runs where the mean run is 32 px or more; raw pixels where it is under 4 px; both tried between
# (a level-3 tile of the benchmark's blobs, runs of ~10 px, is 30 % smaller as runs).
_RUNS_SURE, _RUNS_MAX = TILE * TILE // 32, TILE * TILE // 4


def encode_tile(tile: np.ndarray) -> bytes | None:
    """The stored bytes of a tile (layouts above); None for an all-zero tile, which is not stored."""
    if not tile.any():
        return None
    narrow = tile.max() < 256
    data = np.ascontiguousarray(tile, dtype=np.uint8 if narrow else np.uint16)
    flat = data.reshape(-1)
    begins = np.empty(flat.shape, dtype=bool)  # a run begins where the value changes or a row does
    np.not_equal(flat[1:], flat[:-1], out=begins[1:])
    begins[::TILE] = True
    starts = np.flatnonzero(begins)
    runs = len(starts)
    raw = (_RAW8 if narrow else _RAW16) + _compressor.compress(data.tobytes()) if runs > _RUNS_SURE else None
    if runs > _RUNS_MAX:
        return raw
    values = flat[starts]
    lengths = np.diff(np.append(starts, TILE * TILE)).astype(np.uint16)
    planes = [] if narrow else [(values >> 8).astype(np.uint8)]
    planes += [values.astype(np.uint8), (lengths >> 8).astype(np.uint8), lengths.astype(np.uint8)]
    coded = (_RUNS8 if narrow else _RUNS16) + _runs_compressor.compress(b"".join(p.tobytes() for p in planes))
    return coded if raw is None or len(coded) < len(raw) else raw


def decode_tile(data: bytes | None) -> np.ndarray:
    if data is None:
        return blank()
    layout = data[:1]
    if layout in (_RAW8, _RAW16):
        dtype = np.uint8 if layout == _RAW8 else np.uint16
        raw = _decompressor.decompress(data[1:], max_output_size=TILE * TILE * 2)
        return np.frombuffer(raw, dtype=dtype).reshape(TILE, TILE)
    if layout not in (_RUNS8, _RUNS16):
        raise InvalidValueError(f"a mask tile starts with layout byte {layout!r}, not 1 to 4: damaged or from a newer release")
    raw = np.frombuffer(_decompressor.decompress(data[1:], max_output_size=TILE * TILE * 4), dtype=np.uint8)
    wide = layout == _RUNS16
    n = len(raw) // (4 if wide else 3)
    planes = raw.reshape(-1, n)
    if wide:
        values = (planes[0].astype(np.uint16) << 8) | planes[1]
    else:
        values = planes[0]
    lengths = (planes[-2].astype(np.int64) << 8) | planes[-1]
    return np.repeat(values, lengths).reshape(TILE, TILE)


def top_level(width: int, height: int) -> int:
    """The pyramid's highest level: the first at which the whole image fits in one tile."""
    level, size = 0, max(int(width), int(height), 1)
    while size > TILE:
        size = (size + 1) // 2
        level += 1
    return level


def downsample(children: dict[tuple[int, int], np.ndarray]) -> np.ndarray:
    """A parent tile from its four children (keys (0..1, 0..1); missing ones are empty). Each
    parent pixel takes the first labelled pixel of its 2 x 2 block, so a one-pixel stroke stays
    visible when zoomed out (striding would drop three in four)."""
    dtype = np.result_type(np.uint8, *(c.dtype for c in children.values())) if children else np.uint8
    full = np.zeros((2 * TILE, 2 * TILE), dtype=dtype)
    for (cx, cy), child in children.items():
        full[cy * TILE:(cy + 1) * TILE, cx * TILE:(cx + 1) * TILE] = child
    out = full[0::2, 0::2].copy()
    for dy, dx in ((0, 1), (1, 0), (1, 1)):
        np.copyto(out, full[dy::2, dx::2], where=out == 0)
    return out


def stroke_mask(l0_points, radius: float) -> tuple[tuple[int, int], np.ndarray]:
    """Pixels of a brush stroke: every pixel whose centre lies within ``radius`` of the polyline
    ``l0_points`` (N x 2, level-0). Returns (l0 origin, H x W bool). The browser draws the same
    rule, so what it shows at once is what the kernel stores."""
    pts = np.asarray(l0_points, dtype=np.float64).reshape(-1, 2)
    if not len(pts) or not np.isfinite(pts).all() or not np.isfinite(radius) or radius <= 0:
        raise InvalidValueError(f"a stroke needs finite points and a radius > 0, got {len(pts)} points, radius {radius}")
    x0 = int(np.floor(pts[:, 0].min() - radius))
    y0 = int(np.floor(pts[:, 1].min() - radius))
    x1 = int(np.ceil(pts[:, 0].max() + radius)) + 1
    y1 = int(np.ceil(pts[:, 1].max() + radius)) + 1
    mask = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    r2 = radius * radius
    segments = zip(pts, pts[1:]) if len(pts) > 1 else [(pts[0], pts[0])]
    for a, b in segments:  # each segment only over its own bounding box
        sx0 = int(np.floor(min(a[0], b[0]) - radius)) - x0
        sy0 = int(np.floor(min(a[1], b[1]) - radius)) - y0
        sx1 = int(np.ceil(max(a[0], b[0]) + radius)) + 1 - x0
        sy1 = int(np.ceil(max(a[1], b[1]) + radius)) + 1 - y0
        cx = np.arange(sx0, sx1) + x0 + 0.5
        cy = (np.arange(sy0, sy1) + y0 + 0.5)[:, None]
        d = b - a
        length2 = float(d @ d)
        if length2 == 0.0:
            dist2 = (cx - a[0]) ** 2 + (cy - a[1]) ** 2
        else:
            t = np.clip(((cx - a[0]) * d[0] + (cy - a[1]) * d[1]) / length2, 0.0, 1.0)
            dist2 = (cx - a[0] - t * d[0]) ** 2 + (cy - a[1] - t * d[1]) ** 2
        mask[sy0:sy1, sx0:sx1] |= dist2 <= r2
    return (x0, y0), mask


def polygon_rings_checked(l0_rings) -> list[np.ndarray]:
    """The rings as N x 2 float64 arrays, or InvalidValueError naming the ring that is not one."""
    rings = [np.asarray(r, dtype=np.float64).reshape(-1, 2) for r in l0_rings]
    for k, ring in enumerate(rings):
        if len(ring) < 3 or not np.isfinite(ring).all():
            raise InvalidValueError(f"polygon ring {k} needs at least 3 finite points, got {len(ring)}")
    if not rings:
        raise InvalidValueError("a polygon needs at least one ring of 3 points, got none")
    return rings


def polygon_box(rings) -> tuple[int, int, int, int]:
    """The level-0 box (x0, y0, x1, y1) whose pixels ``polygon_mask`` may paint."""
    pts = np.concatenate(rings)
    x0, y0 = int(np.floor(pts[:, 0].min())), int(np.floor(pts[:, 1].min()))
    x1, y1 = int(np.ceil(pts[:, 0].max())), int(np.ceil(pts[:, 1].max()))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def polygon_mask(l0_rings, l0_window=None) -> tuple[tuple[int, int], np.ndarray]:
    """Pixels inside a polygon: every pixel whose centre is inside the rings ``l0_rings`` (each
    N x 2, level-0, closed implicitly) by the even-odd rule, so a ring inside another is a hole.
    Returns (l0 origin, H x W bool) over the polygon's box, or over ``l0_window`` (x0, y0, x1, y1)
    when given (a tile of a fill too large for one array: the same pixels, part by part). The
    browser's fill tool (js/src/masks/raster.ts ``paintPolygon``) uses the same crossings in the
    same arithmetic."""
    rings = polygon_rings_checked(l0_rings)
    x0, y0, x1, y1 = polygon_box(rings) if l0_window is None else (int(v) for v in l0_window)
    width, height = max(x1 - x0, 1), max(y1 - y0, 1)
    a = np.concatenate(rings)
    b = np.concatenate([np.roll(r, -1, axis=0) for r in rings])
    cx = x0 + np.arange(width) + 0.5
    cy = (y0 + np.arange(height) + 0.5)[:, None]
    ax, ay, bx, by = a[:, 0], a[:, 1], b[:, 0], b[:, 1]
    crosses = (ay > cy) != (by > cy)  # H x E: the edge spans the row's centre line (half-open)
    rows, edges = np.nonzero(crosses)
    xc = ax[edges] + (cy[rows, 0] - ay[edges]) * (bx[edges] - ax[edges]) / (by[edges] - ay[edges])
    # a centre is inside when an odd number of crossings lie right of it: each crossing toggles
    # the centres left of it (those with cx < xc), counted by a cumulative sum from the right
    left_of = np.searchsorted(cx, xc, side="left")
    toggles = np.zeros((height, width + 1), dtype=np.uint8)
    np.add.at(toggles, (rows, left_of), 1)
    counts = np.cumsum(toggles[:, ::-1], axis=1, dtype=np.uint8)[:, ::-1]
    return (x0, y0), (counts[:, 1:] & 1).astype(bool)
