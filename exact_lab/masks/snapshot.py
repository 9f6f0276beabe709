"""A label image's painted tiles at one snapshot, level and frame, held as their stored bytes.

For readers that must not touch the store while they read (a dataset's worker processes): the
bytes are read once, stay compressed (a painted 512 px tile is a few hundred bytes), are
picklable, and a region decodes only the tiles it covers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tiles import TILE, decode_tile


@dataclass
class MaskTiles:
    image_id: int
    frame: int
    level: int
    snapshot: int | None
    tiles: dict[tuple[int, int], bytes] = field(repr=False)

    def __bool__(self) -> bool:
        return bool(self.tiles)

    def region(self, lk_box) -> np.ndarray:
        """Class indices over ``lk_box`` = (x0, y0, x1, y1) in this level's pixels (0 where
        unpainted or outside the image)."""
        x0, y0, x1, y1 = (int(v) for v in lk_box)
        out = np.zeros((max(0, y1 - y0), max(0, x1 - x0)), dtype=np.uint16)
        if not out.size:
            return out
        for ty in range(y0 // TILE, (y1 - 1) // TILE + 1):
            for tx in range(x0 // TILE, (x1 - 1) // TILE + 1):
                data = self.tiles.get((tx, ty))
                if data is None:
                    continue
                ox, oy = tx * TILE, ty * TILE
                ix0, iy0, ix1, iy1 = max(x0, ox), max(y0, oy), min(x1, ox + TILE), min(y1, oy + TILE)
                out[iy0 - y0:iy1 - y0, ix0 - x0:ix1 - x0] = decode_tile(data)[iy0 - oy:iy1 - oy, ix0 - ox:ix1 - ox]
        return out

    def classes(self) -> set[int]:
        """The class indices painted anywhere (0 left out)."""
        found: set[int] = set()
        for data in self.tiles.values():
            found.update(int(v) for v in np.unique(decode_tile(data)))
        return found - {0}
