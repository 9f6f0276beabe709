"""``proj.annotation_map``: every annotation of the chosen types cut out and laid out in a square
grid, as a virtual slide whose edits flow back to the sources."""

from __future__ import annotations

import pandas as pd

from ..errors import InvalidValueError
from . import virtual
from .build import make_map, select_annotations
from .layout import grid_for, reading_order
from .windows import patch_sizes, plan_windows

DEFAULT_ORDER = ("type", "image_id", "ymin", "xmin")


def annotation_map(project, types=None, image_set=None, version=None, patch_size=None, context: float = 0.15,
                   columns: int | None = None, order_by=None, user: str | None = None, *, image=None, gap: int = 2,
                   compression: str = virtual.DEFAULT_COMPRESSION, workers: int = 4):
    annotations = select_annotations(project, types=types, image=image, image_set=image_set, version=version, user=user)
    order = list(DEFAULT_ORDER) if order_by is None else ([order_by] if isinstance(order_by, str) else list(order_by))
    _check_columns(annotations, order)
    annotations = annotations.sort_values(order, kind="stable").reset_index(drop=True)
    windows = plan_windows(annotations, patch_sizes(project.annotation_types(), annotations, patch_size), context)
    col, row, n_cols, n_rows = reading_order(len(windows), columns)
    grid = grid_for(windows, n_cols, n_rows, gap)
    params = {"types": None if types is None else ([types] if isinstance(types, str) else list(types)),
              "version": version, "context": context, "columns": n_cols,
              "order_by": order}
    return make_map(project, annotations, windows, grid.origins(col, row, windows), grid.size, kind="annotation_map",
                    extra=pd.DataFrame({"col": col, "row": row}), params=params, compression=compression, workers=workers)


def _check_columns(annotations: pd.DataFrame, columns) -> None:
    missing = [c for c in columns if c not in annotations.columns]
    if missing:
        raise InvalidValueError(f"order_by column {missing[0]!r} is not an annotation column "
                                f"(have: {', '.join(annotations.columns)})")
