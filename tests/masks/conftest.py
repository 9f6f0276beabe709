from __future__ import annotations

import pytest


@pytest.fixture
def labelled(project, small_svs):
    """A project with two mask classes and one slide (CMU-1-Small-Region, 2220 x 2967)."""
    tumour = project.add_annotation_type("tumour", "mask")
    stroma = project.add_annotation_type("stroma", "mask")
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    return project, image_id, tumour, stroma
