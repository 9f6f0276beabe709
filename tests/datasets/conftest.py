"""Small real images (PNG files written here) in a fresh project, with annotations."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def write_png(path, width=400, height=300, seed=0):
    """An RGB image of noise (every pixel differs, so a shifted patch cannot pass as the right one)."""
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def image_files(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()

    def make(count, width=400, height=300):
        return [write_png(folder / f"img{i:02d}.png", width, height, seed=i) for i in range(count)]

    return make


@pytest.fixture
def patients_project(project, image_files):
    """12 images of 5 patients (sizes 4, 3, 2, 2, 1) with 0..11 boxes each."""
    from shapely.geometry import box

    project.add_annotation_type("cell", "box")
    project.add_annotation_type("mitosis", "box")
    patients = ["p0", "p0", "p0", "p0", "p1", "p1", "p1", "p2", "p2", "p3", "p3", "p4"]
    rows = []
    for i, (path, patient) in enumerate(zip(image_files(12, 200, 150), patients)):
        image_id = int(project.add_images([path], image_set="all", meta={"patient": patient})["image_id"].iloc[0])
        for k in range(i):
            rows.append({"image_id": image_id, "type": "cell" if k % 3 else "mitosis",
                         "geometry": box(5 + 10 * k, 5, 12 + 10 * k, 15)})
    project.add_annotations(rows)
    return project
