"""The screening grid: tiles of one size over the image, overlapping by a fraction, in reading
order (index = row * cols + col)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import InvalidValueError


@dataclass(frozen=True)
class Grid:
    width: int
    height: int
    tile_width: int
    tile_height: int
    overlap: float

    def __post_init__(self):
        if self.tile_width <= 0 or self.tile_height <= 0:
            raise InvalidValueError(f"tile size must be > 0, got {self.tile_width} x {self.tile_height}")
        if not 0 <= self.overlap < 1:
            raise InvalidValueError(f"overlap is a fraction in [0, 1), got {self.overlap!r}")

    @property
    def step(self) -> tuple[float, float]:
        return self.tile_width * (1 - self.overlap), self.tile_height * (1 - self.overlap)

    @property
    def cols(self) -> int:
        return 1 if self.width <= self.tile_width else math.ceil((self.width - self.tile_width) / self.step[0]) + 1

    @property
    def rows(self) -> int:
        return 1 if self.height <= self.tile_height else math.ceil((self.height - self.tile_height) / self.step[1]) + 1

    def position(self, index: int) -> tuple[int, int]:
        """(col, row) of a tile."""
        if not 0 <= index < self.cols * self.rows:
            raise InvalidValueError(f"tile {index} outside the grid of {self.cols} x {self.rows}")
        row, col = divmod(int(index), self.cols)
        return col, row

    def bounds(self, index: int) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) in level-0 pixels; the last column and row end at the image's edge."""
        col, row = self.position(index)
        x0 = min(col * self.step[0], max(0.0, self.width - self.tile_width))
        y0 = min(row * self.step[1], max(0.0, self.height - self.tile_height))
        return x0, y0, min(self.width, x0 + self.tile_width), min(self.height, y0 + self.tile_height)

    def describe(self) -> dict:
        """What the browser needs to draw every tile (small JSON: no list of boxes)."""
        sx, sy = self.step
        return {"width": self.width, "height": self.height, "tile_width": self.tile_width,
                "tile_height": self.tile_height, "step_x": sx, "step_y": sy, "cols": self.cols, "rows": self.rows}
