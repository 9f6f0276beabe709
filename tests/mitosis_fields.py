"""Annotations for the high-power-field tests (measurement panel, HPF frame): cells everywhere and
mitoses spread over CMU-1-Small-Region.svs with a dense cluster around (1500, 2000)."""

from __future__ import annotations

import numpy as np
from shapely.geometry import box


def add_mitosis_field(project, small_svs, *, seed: int, cells: int, spread: int, cluster: int) -> int:
    """Adds the image and the annotations; returns the image id."""
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    project.add_annotation_type("cell", "point")
    project.add_annotation_type("mitosis", "box")
    rng = np.random.default_rng(seed)
    rows = [{"image_id": image_id, "type": "cell", "geometry": f"POINT ({x} {y})"}
            for x, y in zip(rng.uniform(0, 2220, cells), rng.uniform(0, 2967, cells))]
    spread_at = list(zip(rng.uniform(0, 2200, spread), rng.uniform(0, 2940, spread)))
    cluster_at = list(zip(rng.uniform(1450, 1550, cluster), rng.uniform(1950, 2050, cluster)))
    rows += [{"image_id": image_id, "type": "mitosis", "geometry": box(x, y, x + 20, y + 20)}
             for x, y in [*spread_at, *cluster_at]]
    project.add_annotations(rows)
    return image_id
