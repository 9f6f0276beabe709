"""The agreement table as a figure for the notebook (matplotlib, the ``plot`` extra)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError

METRICS = ("f1", "precision", "recall", "mean_iou")


def plot_agreement(table: pd.DataFrame, metric: str = "f1", ax=None):
    """Grouped bars: one group per type, one bar per user pair, height = ``metric``. Returns the
    matplotlib Axes."""
    if metric not in METRICS:
        raise InvalidValueError(f"metric {metric!r}; expected one of {', '.join(METRICS)}")
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # the plot extra is optional
        raise InvalidValueError("the agreement plot needs matplotlib: pip install 'exact-lab[plot]'") from exc
    if ax is None:
        _fig, ax = plt.subplots(figsize=(7, 3.5))
    pairs = (table["user_a"] + " / " + table["user_b"]).to_numpy()
    types = list(pd.unique(table["type"]))
    names = list(pd.unique(pairs))
    width = 0.8 / max(1, len(names))
    x = np.arange(len(types))
    for i, pair in enumerate(names):
        rows = table[pairs == pair].set_index("type").reindex(types)
        ax.bar(x + i * width - 0.4 + width / 2, rows[metric].to_numpy(dtype=float), width, label=pair)
    ax.set_xticks(x, types)
    ax.set_ylim(0, 1)
    ax.set_ylabel(metric)
    ax.set_title(f"agreement between annotators ({metric})")
    ax.legend(fontsize="small")
    return ax
