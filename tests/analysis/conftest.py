"""A small generated slide (the demo's, 2048 x 1536 with 250 nuclei) in a fresh project: boxes for
the mitosis-like figures, polygons for the other nuclei — the blobs the generator drew."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

import exact_lab as xl
from exact_lab.demo import make_demo_slide

WIDTH, HEIGHT, NUCLEI = 2048, 1536, 250


@pytest.fixture(scope="session")
def demo_slide(tmp_path_factory):
    """(path, blobs) of the generated slide; blobs are its ground truth."""
    path, blobs = make_demo_slide(tmp_path_factory.mktemp("analysis-slide") / "demo.tiff",
                                  width=WIDTH, height=HEIGHT, n_nuclei=NUCLEI)
    return path, blobs


def outline(blob) -> shapely.Polygon:
    """The blob's ellipse as a 12-sided polygon."""
    circle = shapely.Point(0, 0).buffer(1.0, quad_segs=3)
    ellipse = shapely.affinity.scale(circle, blob.rx, blob.ry, origin=(0, 0))
    return shapely.affinity.translate(shapely.affinity.rotate(ellipse, blob.angle, origin=(0, 0), use_radians=True),
                                      blob.x, blob.y)


def square(blob, margin: float = 4) -> shapely.Polygon:
    """An integer box around the blob, ``margin`` pixels beyond its longer radius."""
    r = max(blob.rx, blob.ry) + margin
    return shapely.box(*np.round([blob.x - r, blob.y - r, blob.x + r, blob.y + r]))


@pytest.fixture
def demo_project(tmp_path, demo_slide):
    """(project, image_id, blobs) with one annotation per blob."""
    path, blobs = demo_slide
    proj = xl.open_project(tmp_path / "project", user="alice")
    proj.add_annotation_type("mitotic figure", "box", default_size=(40, 40))
    proj.add_annotation_type("tumor cell", "polygon")
    proj.add_annotation_type("immune cell", "polygon")
    image_id = int(proj.add_images([path], image_set="demo")["image_id"].iloc[0])
    proj.add_annotations(pd.DataFrame({
        "image_id": image_id,
        "type": ["mitotic figure" if b.mitotic else "tumor cell" for b in blobs],
        "geometry": [square(b) if b.mitotic else outline(b) for b in blobs],
    }))
    yield proj, image_id, blobs
    proj.close()
