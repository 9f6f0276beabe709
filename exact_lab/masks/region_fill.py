"""A region fill as a paint operation that is rasterised tile by tile: no array over the polygon's
box is ever made (a 200,000 px square region would be 40 GB as one bool array). Tiles wholly
inside the polygon are one value (`uniform_over`), so the store writes them without rasterising
or encoding each one; tiles crossed by an edge are rasterised by ``polygon_mask`` over the tile
alone, which gives the pixels the whole-box rule gives."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tiles import TILE, polygon_box, polygon_mask, polygon_rings_checked

# An edge is followed by points _STEP px apart: each of its points is within _STEP / 2 of one, so
# the tiles within _REACH px of the points hold every pixel within 2 px of the edge.
_STEP = 8
_REACH = _STEP // 2 + 2


@dataclass(frozen=True, eq=False)
class PolygonOp:
    """Set every level-0 pixel of ``l0_box`` (clipped to the image) whose centre is inside
    ``rings`` (even-odd) to ``value``."""

    image_id: int
    frame: int
    rings: tuple[np.ndarray, ...]
    value: int
    l0_box: tuple[int, int, int, int]

    @classmethod
    def clipped(cls, image_id: int, frame: int, rings, value: int, width: int, height: int) -> PolygonOp | None:
        """The fill of ``rings`` on an image ``width`` x ``height`` (None when it is outside)."""
        rings = tuple(polygon_rings_checked(rings))
        x0, y0, x1, y1 = polygon_box(rings)
        box = (max(x0, 0), max(y0, 0), min(x1, width), min(y1, height))
        if box[2] <= box[0] or box[3] <= box[1]:
            return None
        return cls(int(image_id), int(frame), rings, int(value), box)

    @property
    def l0_xy(self) -> tuple[int, int]:
        return self.l0_box[0], self.l0_box[1]

    def classes(self) -> np.ndarray:
        return np.array([self.value], np.uint16)

    def tile_keys(self) -> list[tuple[int, int]]:
        """The tiles crossed by an edge or inside the polygon."""
        return sorted(self._states())

    def uniform_over(self, tile_xy) -> int | None:
        """The value the whole tile has after this op, whatever it held before (None: not one)."""
        return self.value if self._states().get(tuple(tile_xy)) == "inside" else None

    def apply(self, tile_xy, tile: np.ndarray) -> np.ndarray:
        """The level-0 tile ``tile_xy`` with this op's pixels written into it (a new array)."""
        out = tile.astype(np.result_type(tile.dtype, np.uint8 if self.value < 256 else np.uint16), copy=True)
        state = self._states().get(tuple(tile_xy))
        if state is None:
            return out
        tx0, ty0 = tile_xy[0] * TILE, tile_xy[1] * TILE
        x0, y0 = max(tx0, self.l0_box[0]), max(ty0, self.l0_box[1])
        x1, y1 = min(tx0 + TILE, self.l0_box[2]), min(ty0 + TILE, self.l0_box[3])
        dst = (slice(y0 - ty0, y1 - ty0), slice(x0 - tx0, x1 - tx0))
        if state == "inside":
            out[dst] = self.value
        else:
            _, hit = polygon_mask(self.rings, (x0, y0, x1, y1))
            out[dst][hit] = self.value
        return out

    # -- which tiles ---------------------------------------------------------------------------------
    def _states(self) -> dict[tuple[int, int], str]:
        """{tile_xy: "edge" | "inside"} for the tiles the op paints into (computed once): "edge"
        where an edge passes within a few pixels of the tile or the box cuts it, else the state of
        the tile's first pixel, which holds for all its pixels (no edge between them)."""
        cached = self.__dict__.get("_state_cache")
        if cached is not None:
            return cached
        bx0, by0, bx1, by1 = self.l0_box
        c0, r0, c1, r1 = bx0 // TILE, by0 // TILE, (bx1 - 1) // TILE, (by1 - 1) // TILE
        edge = set()
        for ring in self.rings:
            for (ax, ay), (ex, ey) in zip(ring, np.roll(ring, -1, axis=0)):
                # points every _STEP px along the edge; the tiles within _REACH px of one hold
                # every pixel within a pixel of the edge
                n = max(1, int(np.ceil(np.hypot(ex - ax, ey - ay) / _STEP)))
                t = np.linspace(0.0, 1.0, n + 1)
                xs, ys = ax + t * (ex - ax), ay + t * (ey - ay)
                for dx in (-_REACH, _REACH):
                    for dy in (-_REACH, _REACH):
                        tx = np.clip((xs + dx) // TILE, c0, c1).astype(np.int64)
                        ty = np.clip((ys + dy) // TILE, r0, r1).astype(np.int64)
                        edge.update(zip(tx.tolist(), ty.tolist()))
        out: dict[tuple[int, int], str] = {}
        for ty in range(r0, r1 + 1):
            # the first pixel row of the tile row, across the box: one crossing count per tile
            _, row = polygon_mask(self.rings, (bx0, ty * TILE, bx1, ty * TILE + 1))
            for tx in range(c0, c1 + 1):
                key = (tx, ty)
                full = tx * TILE >= bx0 and ty * TILE >= by0 and (tx + 1) * TILE <= bx1 and (ty + 1) * TILE <= by1
                if key in edge or not full:
                    out[key] = "edge"
                elif row[0, tx * TILE - bx0]:
                    out[key] = "inside"
        object.__setattr__(self, "_state_cache", out)
        return out
