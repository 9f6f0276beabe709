"""Where each annotation's patch comes from: a window of its source image around the annotation,
and the scale from that window (level-0 pixels) to the patch (output pixels).

A patch is the template's default size (else the annotations' own extent) plus ``context`` around
it, in total (0.15: 7.5 % each side, as EXACT's maps). An annotation larger than that is shrunk to
fit (``scale`` > 1 source pixels per patch pixel); smaller ones are never enlarged, so they show
more of their surroundings and keep their pixels exactly.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import InvalidValueError

# Points and tiny shapes without a template size get patches of this many pixels.
MIN_PATCH = 32
# Without a template size, the patch covers this quantile of the annotations' extents: the few
# larger ones are shrunk, instead of one outlier making every patch huge.
EXTENT_QUANTILE = 0.9


def patch_sizes(types: pd.DataFrame, annotations: pd.DataFrame, patch_size=None) -> dict:
    """type name -> (width, height) of the annotation window before context."""
    if patch_size is not None:
        size = _as_size(patch_size, "patch_size")
        return {name: size for name in pd.unique(annotations["type"])}
    defaults = types.set_index("name")[["default_width", "default_height"]]
    sizes = {}
    for name, rows in annotations.groupby("type", sort=False):
        w, h = defaults.loc[name] if name in defaults.index else (np.nan, np.nan)
        if pd.notna(w) and pd.notna(h) and w > 0 and h > 0:
            sizes[name] = (int(math.ceil(w)), int(math.ceil(h)))
            continue
        ext_w = np.nanquantile((rows["xmax"] - rows["xmin"]).to_numpy(dtype=float), EXTENT_QUANTILE)
        ext_h = np.nanquantile((rows["ymax"] - rows["ymin"]).to_numpy(dtype=float), EXTENT_QUANTILE)
        sizes[name] = (max(MIN_PATCH, int(math.ceil(ext_w))), max(MIN_PATCH, int(math.ceil(ext_h))))
    return sizes


def plan_windows(annotations: pd.DataFrame, sizes: dict | None, context: float = 0.15, *, out_size=None) -> pd.DataFrame:
    """One row per annotation: the patch size (``out_w``, ``out_h``), the source window in level-0
    pixels (``src_x0``, ``src_y0``, ``src_w``, ``src_h``) and ``scale_x``, ``scale_y`` (source pixels
    per patch pixel). Keeps ``uuid``, ``image_id`` and ``type``.

    ``sizes`` gives each type's size before context; ``out_size`` instead fixes the patch itself
    (context included), as a model's input."""
    if not 0 <= context < 10:
        raise InvalidValueError(f"context is a fraction of the patch size (0.15 = 15 %), got {context!r}")
    if annotations.empty:
        return pd.DataFrame(columns=["uuid", "image_id", "type", "out_w", "out_h", "src_x0", "src_y0",
                                     "src_w", "src_h", "scale_x", "scale_y"])
    missing = annotations["xmin"].isna().to_numpy()
    if missing.any():
        row = annotations.iloc[int(np.argmax(missing))]
        raise InvalidValueError(f"annotation {row['uuid']} ({row['type']}) has no geometry to cut a patch around")
    if out_size is not None:
        out = np.tile(np.array(_as_size(out_size, "patch_size"), dtype=np.int64), (len(annotations), 1))
        base = out / (1 + context)
    else:
        base = np.array([sizes[t] for t in annotations["type"]], dtype=float)
        out = np.maximum(1, np.round(base * (1 + context))).astype(np.int64)
    ext = np.column_stack([(annotations["xmax"] - annotations["xmin"]).to_numpy(float),
                           (annotations["ymax"] - annotations["ymin"]).to_numpy(float)])
    shrink = np.maximum(1.0, np.max(ext / base, axis=1))
    src = np.maximum(1, np.round(out * shrink[:, None])).astype(np.int64)
    centre = np.column_stack([(annotations["xmin"] + annotations["xmax"]).to_numpy(float) / 2,
                              (annotations["ymin"] + annotations["ymax"]).to_numpy(float) / 2])
    l0_origin = np.round(centre - src / 2).astype(np.int64)
    return pd.DataFrame({
        "uuid": annotations["uuid"].to_numpy(),
        "image_id": annotations["image_id"].to_numpy(dtype=np.int64),
        "type": annotations["type"].to_numpy(),
        "out_w": out[:, 0], "out_h": out[:, 1],
        "src_x0": l0_origin[:, 0], "src_y0": l0_origin[:, 1],
        "src_w": src[:, 0], "src_h": src[:, 1],
        "scale_x": src[:, 0] / out[:, 0], "scale_y": src[:, 1] / out[:, 1],
    })


def _as_size(value, name) -> tuple[int, int]:
    if isinstance(value, (int, float, np.integer, np.floating)):
        value = (value, value)
    try:
        w, h = (int(round(float(v))) for v in value)
    except (TypeError, ValueError):
        raise InvalidValueError(f"{name} is a size in pixels or (width, height), got {value!r}") from None
    if w <= 0 or h <= 0:
        raise InvalidValueError(f"{name} must be positive, got {value!r}")
    return w, h
