"""Shared set-up of the analysis benchmarks: the demo slide at full size in a throwaway project."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

import exact_lab as xl
from exact_lab.demo import make_demo_slide

WIDTH, HEIGHT = 8192, 6144


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def demo_project(folder: Path, boxes: int = 0, box_size: int = 32, seed: int = 0):
    """(project, image_id, slide path, blobs) with ``boxes`` random box annotations on the slide."""
    slide, blobs = make_demo_slide(folder / "demo.tiff", width=WIDTH, height=HEIGHT)
    proj = xl.open_project(folder / "project", user="bench")
    proj.add_annotation_type("crop", "box", default_size=(box_size, box_size))
    image_id = int(proj.add_images([slide], image_set="bench")["image_id"].iloc[0])
    if boxes:
        rng = np.random.default_rng(seed)
        x = rng.uniform(0, WIDTH - box_size, boxes).round()
        y = rng.uniform(0, HEIGHT - box_size, boxes).round()
        proj.add_annotations(pd.DataFrame({"image_id": image_id, "type": "crop", "xmin": x, "ymin": y,
                                           "xmax": x + box_size, "ymax": y + box_size}))
    return proj, image_id, slide, blobs


__all__ = ["timed", "demo_project", "shapely"]
