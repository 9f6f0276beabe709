"""Save and next: images marked done per user, the next undone image, each participant's progress."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import exact_lab as xl


@pytest.fixture
def image_set(project, tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(np.full((200, 300, 3), 40 * i + 60, np.uint8)).save(path)
        paths.append(path)
    project.add_annotation_type("tumour", "mask")
    ids = [int(i) for i in project.add_images(paths, image_set="to-label")["image_id"]]
    return project, ids


def test_next_undone_skips_what_this_user_finished(image_set):
    proj, (a, b, c) = image_set
    assert proj.next_undone(a) == b
    proj.mark_done(b)
    assert proj.next_undone(a) == c
    proj.mark_done(c)
    assert proj.next_undone(a) is None  # a itself is the one being worked on
    proj.mark_done(a)
    assert proj.next_undone(a) is None
    proj.mark_done(b, done=False)
    assert proj.next_undone(c) == b


def test_progress_shows_each_participant(image_set, tmp_path):
    proj, (a, b, c) = image_set
    tumour = proj.mask_class("tumour")
    proj.set_mask(a, np.full((100, 300), tumour, np.uint8))  # half of image a
    proj.mark_done(a)
    bob = xl.open_project(proj.location, user="bob")
    bob.set_mask(b, np.full((200, 30), tumour, np.uint8))  # a tenth of image b
    bob.close()

    progress = proj.labelling_progress("to-label").set_index("user")
    assert progress.loc["alice", "done"] == 1 and progress.loc["bob", "done"] == 0
    assert progress.loc["alice", "done_fraction"] == pytest.approx(1 / 3)
    assert progress.loc["alice", "labelled_fraction"] == pytest.approx(30000 / 180000)
    assert progress.loc["bob", "labelled_fraction"] == pytest.approx(6000 / 180000)
    detail = proj.labelling_progress("to-label", by_image=True).set_index(["user", "image_id"])
    assert detail.loc[("alice", a), "done"] and not detail.loc[("bob", a), "done"]
    assert detail.loc[("alice", a), "labelled_fraction"] == pytest.approx(0.5)
    assert detail.loc[("alice", b), "labelled_fraction"] == pytest.approx(0.1)
