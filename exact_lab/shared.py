"""Small pieces every room uses the same way: the colour palette and the JSON encoding of numpy
and time values. One definition each, so a type's colour or a meta value reads the same in the
store, the formats and the viewer."""

from __future__ import annotations

import numpy as np

# Distinct colours for annotation types and layers that come without one (Sasha Trubetskoy's
# list of distinct colours, in its order; the pale ones last).
PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45",
    "#fabed4", "#469990", "#dcbeff", "#9a6324", "#fffac8", "#800000", "#aaffc3", "#000075",
)


def palette_color(index: int) -> str:
    """The palette's colour for the ``index``-th item (wrapping around)."""
    return PALETTE[int(index) % len(PALETTE)]


def json_default(value):
    """``default=`` for json / orjson: numpy scalars and arrays as numbers, times as ISO text."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
