"""A project with one slide and the types review tests use."""

from __future__ import annotations

import pytest


@pytest.fixture
def review_project(project, small_svs):
    project.add_annotation_type("cell", "box")
    project.add_annotation_type("mitosis", "box")
    project.add_annotation_type("tumour", "polygon")
    project.add_annotation_type("nucleus", "point")
    project.add_annotation_type("benign", "global")
    project.add_annotation_type("malignant", "global")
    image_id = int(project.add_images([small_svs], image_set="study")["image_id"].iloc[0])
    return project, image_id
