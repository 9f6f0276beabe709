"""``proj.density_map``: patches ordered by a score on the x axis, stacked on y (EXACT's
hemosiderin grading map), with each bin's range and count and the score's name drawn below."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyvips

from ..errors import InvalidValueError
from . import virtual
from .build import make_map, select_annotations
from .layout import grid_for
from .windows import patch_sizes, plan_windows

LABEL_LINES = 3  # bin range, count, and the axis title


def scores_of(annotations: pd.DataFrame, score: str) -> np.ndarray:
    """An annotation column, else a key of their ``meta`` dicts, as floats (NaN where missing)."""
    if score in annotations.columns:
        values = annotations[score]
    else:
        metas = annotations["meta"] if "meta" in annotations.columns else pd.Series([None] * len(annotations))
        if not any(isinstance(m, dict) and score in m for m in metas):
            raise InvalidValueError(f"score {score!r} is neither an annotation column nor a key of their meta")
        values = metas.map(lambda m: m.get(score) if isinstance(m, dict) else None)
    try:
        return pd.to_numeric(values, errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"score {score!r} must be numbers ({exc})") from None


def bin_edges(values: np.ndarray, bins, value_range=None) -> np.ndarray:
    if isinstance(bins, (int, np.integer)):
        if bins < 1:
            raise InvalidValueError(f"bins is a count >= 1 or a list of edges, got {bins!r}")
        lo, hi = value_range if value_range is not None else (float(np.min(values)), float(np.max(values)))
        if hi <= lo:
            hi = lo + 1.0
        return np.linspace(lo, hi, int(bins) + 1)
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise InvalidValueError(f"bin edges must be at least two increasing numbers, got {list(bins)!r}")
    return edges


def density_map(project, types=None, score: str = "score", bins=10, image_set=None, version=None, patch_size=None,
                context: float = 0.15, bin_columns: int | None = None, user: str | None = None, *, image=None,
                value_range=None, label_format: str = "{:.2f}", gap: int = 2,
                compression: str = virtual.DEFAULT_COMPRESSION, workers: int = 4):
    annotations = select_annotations(project, types=types, image=image, image_set=image_set, version=version, user=user)
    values = scores_of(annotations, score) if len(annotations) else np.zeros(0)
    edges = bin_edges(values[np.isfinite(values)], bins, value_range) if np.isfinite(values).any() else None
    keep = np.isfinite(values)
    if edges is not None:
        keep &= (values >= edges[0]) & (values <= edges[-1])
    if not keep.any():
        raise InvalidValueError(f"no annotation has a {score!r} inside the bins")
    annotations, values = annotations[keep].reset_index(drop=True), values[keep]
    order = np.argsort(values, kind="stable")
    annotations, values = annotations.iloc[order].reset_index(drop=True), values[order]
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)

    n_bins = len(edges) - 1
    counts = np.bincount(index, minlength=n_bins)
    width = int(bin_columns) if bin_columns else max(1, round(math.sqrt(counts.max() / n_bins)))
    n_rows = max(1, math.ceil(counts.max() / width))
    rank = np.arange(len(index)) - np.r_[0, np.cumsum(counts)][index]  # position inside its bin
    col = index * (width + 1) + rank % width  # one empty column between bins
    row = n_rows - 1 - rank // width  # stacked from the bottom up

    windows = plan_windows(annotations, patch_sizes(project.annotation_types(), annotations, patch_size), context)
    probe = grid_for(windows, 1, 1, gap)
    font_px = int(np.clip(probe.cell_h * width // 6, 10, 40))
    grid = grid_for(windows, n_bins * (width + 1) - 1, n_rows, gap, margin_bottom=LABEL_LINES * font_px * 2)

    def draw_axis(canvas: np.ndarray) -> None:
        top = grid.gap + grid.rows * grid.cell_h + font_px // 2
        block = width * grid.cell_w
        for b in range(n_bins):
            x = grid.gap + b * (width + 1) * grid.cell_w
            label = f"{label_format.format(edges[b])} – {label_format.format(edges[b + 1])}"
            _text(canvas, label, x, top, font_px, block + grid.cell_w)
            _text(canvas, f"n = {counts[b]}", x, top + 2 * font_px, font_px, block + grid.cell_w)
        _text(canvas, score, grid.gap, top + 4 * font_px, font_px, grid.size[0] - grid.gap)

    extra = pd.DataFrame({"score": values, "bin": index, "col": col, "row": row})
    params = {"score": score, "bins": [float(e) for e in edges], "bin_columns": width, "context": context,
              "unscored": int((~keep).sum()), "version": version}
    return make_map(project, annotations, windows, grid.origins(col, row, windows), grid.size, kind="density_map",
                    extra=extra, params=params, decorate=draw_axis, compression=compression, workers=workers)


def _text(canvas: np.ndarray, text: str, x: int, y: int, font_px: int, max_width: int) -> None:
    """Dark text rendered by pyvips into the canvas at (x, y), clipped to the canvas."""
    mask = pyvips.Image.text(text, font=f"sans {font_px}", dpi=72, width=max(1, int(max_width)))
    ink = np.ndarray(buffer=mask.write_to_memory(), dtype=np.uint8, shape=(mask.height, mask.width))
    h = min(ink.shape[0], canvas.shape[0] - y)
    w = min(ink.shape[1], canvas.shape[1] - x)
    if h <= 0 or w <= 0:
        return
    region = canvas[y:y + h, x:x + w]
    np.minimum(region, (255 - ink[:h, :w])[:, :, None], out=region)
