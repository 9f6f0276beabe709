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


def outline(blob, vertices: int = 12) -> shapely.Polygon:
    t = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    c, s = np.cos(blob.angle), np.sin(blob.angle)
    x = blob.x + blob.rx * np.cos(t) * c - blob.ry * np.sin(t) * s
    y = blob.y + blob.rx * np.cos(t) * s + blob.ry * np.sin(t) * c
    return shapely.Polygon(np.column_stack([x, y]))


@pytest.fixture
def demo_project(tmp_path, demo_slide):
    """(project, image_id, blobs) with one annotation per blob."""
    path, blobs = demo_slide
    proj = xl.open_project(tmp_path / "project", user="alice")
    proj.add_annotation_type("mitotic figure", "box", default_size=(40, 40))
    proj.add_annotation_type("tumor cell", "polygon")
    proj.add_annotation_type("immune cell", "polygon")
    image_id = int(proj.add_images([path], image_set="demo")["image_id"].iloc[0])
    rows = []
    for blob in blobs:
        if blob.mitotic:
            r = max(blob.rx, blob.ry) + 4
            rows.append((image_id, "mitotic figure", shapely.box(round(blob.x - r), round(blob.y - r),
                                                              round(blob.x + r), round(blob.y + r))))
        else:
            rows.append((image_id, "tumor cell", outline(blob)))
    proj.add_annotations(pd.DataFrame(rows, columns=["image_id", "type", "geometry"]))
    yield proj, image_id, blobs
    proj.close()
