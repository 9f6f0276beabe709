"""Counts in a field of view, from the store's viewport query.

10 high-power fields are 2.37 mm² by default (the mitotic count's area, Meuter et al.); an
annotation counts in a view when its centre lies inside it, so one straddling the edge is not
counted in two neighbouring views.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from ..errors import InvalidValueError

HPF10_MM2 = 2.37


def mm2_per_pixel(mpp: float | None, image) -> float:
    if mpp is None or not np.isfinite(mpp) or mpp <= 0:
        raise InvalidValueError(f"image {image!r} has no microns per pixel: areas in mm² cannot be measured")
    return (float(mpp) / 1000.0) ** 2


def count_in(project, image, bounds, *, frame: int | None = 0, types=None) -> pd.Series:
    """Annotations per type whose centre lies in ``bounds`` (level-0 x0, y0, x1, y1)."""
    x0, y0, x1, y1 = (float(v) for v in bounds)
    rows = project.annotations(image=image, bbox=(x0, y0, x1, y1), types=types, frame=frame)
    cx = (rows["xmin"] + rows["xmax"]) / 2
    cy = (rows["ymin"] + rows["ymax"]) / 2
    inside = (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
    return rows.loc[inside, "type"].value_counts().sort_index()


def measure_view(project, image, bounds, *, frame: int | None = 0, types=None, hpf10_mm2: float = HPF10_MM2) -> dict:
    """Field of view (the part of ``bounds`` inside the image) in mm², and per type: count,
    per mm² and per 10 HPF."""
    record = project.image(image)
    x0, y0, x1, y1 = (float(v) for v in bounds)
    x0, y0 = max(0.0, x0), max(0.0, y0)
    x1, y1 = min(float(record["width"]), x1), min(float(record["height"]), y1)
    area_px = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    fov_mm2 = area_px * mm2_per_pixel(record["mpp"], image)
    counts = count_in(project, record["image_id"], (x0, y0, x1, y1), frame=frame, types=types)
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        counts = counts.reindex(names, fill_value=0)
    table = pd.DataFrame({"count": counts.astype(int)})
    table["per_mm2"] = table["count"] / fov_mm2 if fov_mm2 > 0 else np.nan
    table["per_10_hpf"] = table["per_mm2"] * hpf10_mm2
    table.index.name = "type"
    return {"image_id": int(record["image_id"]), "bounds": (x0, y0, x1, y1), "fov_mm2": fov_mm2,
            "hpf": fov_mm2 / (hpf10_mm2 / 10), "counts": table}


def as_html(measured: dict) -> str:
    """The measurement as the panel shows it."""
    # by column, not iterrows: a row of mixed columns comes back as floats (a count of "114.0")
    table = measured["counts"]
    rows = "".join(
        f"<tr><td>{html.escape(str(name))}</td><td>{int(count)}</td><td>{per_mm2:.1f}</td><td>{per_hpf:.1f}</td></tr>"
        for name, count, per_mm2, per_hpf in zip(table.index, table["count"], table["per_mm2"], table["per_10_hpf"]))
    return (f"<div class='xl-measure-fov'>FOV <b>{measured['fov_mm2']:.3f}</b> mm² "
            f"({measured['hpf']:.1f} HPF)</div>"
            "<table class='xl-measure-table'><tr><th>type</th><th>n</th><th>/mm²</th><th>/10 HPF</th></tr>"
            f"{rows}</table>")
