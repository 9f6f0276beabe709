"""Deep Zoom geometry: level sizes and the rectangle each tile covers.

Level ``n - 1`` is the full image; each level below halves it (rounding up) down to 1x1. A tile
covers ``tile_size`` pixels plus ``overlap`` pixels on every side that has a neighbour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

DZI_NAMESPACE = "http://schemas.microsoft.com/deepzoom/2008"


@dataclass(frozen=True)
class DeepZoomLayout:
    width: int
    height: int
    tile_size: int = 254
    overlap: int = 1
    level_dimensions: tuple = field(init=False, repr=False)

    def __post_init__(self):
        if self.tile_size < 1 or not 0 <= self.overlap < self.tile_size:
            raise ValueError(f"tile size must be >= 1 and 0 <= overlap < tile size, not {self.tile_size}/{self.overlap}")
        sizes = [(self.width, self.height)]
        while sizes[-1][0] > 1 or sizes[-1][1] > 1:
            w, h = sizes[-1]
            sizes.append((max(1, math.ceil(w / 2)), max(1, math.ceil(h / 2))))
        object.__setattr__(self, "level_dimensions", tuple(reversed(sizes)))

    @property
    def level_count(self) -> int:
        return len(self.level_dimensions)

    def downsample(self, level: int) -> int:
        """How many full-resolution pixels one pixel of ``level`` stands for (a power of two)."""
        return 1 << (self.level_count - 1 - level)

    def tile_counts(self, level: int) -> tuple[int, int]:
        w, h = self.level_dimensions[level]
        return math.ceil(w / self.tile_size), math.ceil(h / self.tile_size)

    def tile_rect(self, level: int, col: int, row: int) -> tuple[int, int, int, int]:
        """(x, y, w, h) of the tile in ``level`` pixels, overlap included; IndexError when outside."""
        if not 0 <= level < self.level_count:
            raise IndexError(f"level {level} outside 0..{self.level_count - 1}")
        cols, rows = self.tile_counts(level)
        if not (0 <= col < cols and 0 <= row < rows):
            raise IndexError(f"tile {col}_{row} outside the {cols}x{rows} tiles of level {level}")
        lw, lh = self.level_dimensions[level]
        ts, ov = self.tile_size, self.overlap
        x0 = col * ts - (ov if col else 0)
        y0 = row * ts - (ov if row else 0)
        x1 = min((col + 1) * ts + ov, lw)
        y1 = min((row + 1) * ts + ov, lh)
        return x0, y0, x1 - x0, y1 - y0

    def dzi(self, fmt: str = "jpeg") -> str:
        """The Deep Zoom descriptor XML."""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Image xmlns={quoteattr(DZI_NAMESPACE)} TileSize=\"{self.tile_size}\" "
            f"Overlap=\"{self.overlap}\" Format={quoteattr(fmt)}>"
            f"<Size Width=\"{self.width}\" Height=\"{self.height}\"/></Image>\n"
        )
