"""Placing patches in a grid of equal cells: cell (col, row) -> map pixel rectangle.

Every cell is as large as the largest patch plus ``gap`` pixels of background; a smaller patch sits
in the middle of its cell. Distinct cells therefore never overlap, whatever the patch sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InvalidValueError


@dataclass(frozen=True)
class Grid:
    cell_w: int
    cell_h: int
    columns: int
    rows: int
    gap: int
    margin_bottom: int = 0  # room below the grid (axis labels)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the map in pixels."""
        return self.gap + self.columns * self.cell_w, self.gap + self.rows * self.cell_h + self.margin_bottom

    def origins(self, col, row, windows: pd.DataFrame) -> np.ndarray:
        """n x 2 map_xy of the top-left pixel of each patch placed in cell (col, row)."""
        col, row = np.asarray(col, dtype=np.int64), np.asarray(row, dtype=np.int64)
        if len(col) and (col.min() < 0 or col.max() >= self.columns or row.min() < 0 or row.max() >= self.rows):
            raise InvalidValueError("a patch was placed outside the grid")
        out_w = windows["out_w"].to_numpy(dtype=np.int64)
        out_h = windows["out_h"].to_numpy(dtype=np.int64)
        x = self.gap + col * self.cell_w + (self.cell_w - self.gap - out_w) // 2
        y = self.gap + row * self.cell_h + (self.cell_h - self.gap - out_h) // 2
        return np.column_stack([x, y])


def grid_for(windows: pd.DataFrame, columns: int, rows: int, gap: int = 2, margin_bottom: int = 0) -> Grid:
    if gap < 0:
        raise InvalidValueError(f"gap is a number of pixels >= 0, got {gap!r}")
    cell_w = int(windows["out_w"].max()) + gap if len(windows) else 1 + gap
    cell_h = int(windows["out_h"].max()) + gap if len(windows) else 1 + gap
    return Grid(cell_w, cell_h, max(1, int(columns)), max(1, int(rows)), int(gap), int(margin_bottom))


def reading_order(n: int, columns: int | None = None) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Row-major cells for n patches in a grid of ``columns`` (default: a square, ceil(sqrt(n)))."""
    if columns is None:
        columns = max(1, math.ceil(math.sqrt(n)))
    elif int(columns) < 1:
        raise InvalidValueError(f"columns must be at least 1, got {columns!r}")
    columns = int(columns)
    rows = max(1, math.ceil(n / columns))
    index = np.arange(n)
    return index % columns, index // columns, columns, rows
