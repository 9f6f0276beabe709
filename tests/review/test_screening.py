"""Screening: the grid, the tissue mask, moves and their marks, state kept in the store."""

from __future__ import annotations

import numpy as np
import pytest

import exact_lab as xl
from exact_lab.errors import InvalidValueError
from exact_lab.review.grid import Grid
from exact_lab.review.tissue import tiles_with_tissue, tissue_mask


def test_the_grid_overlaps_and_ends_at_the_edges():
    grid = Grid(1000, 500, 400, 400, 0.15)
    assert grid.step == (340.0, 340.0)
    assert (grid.cols, grid.rows) == (3, 2)
    assert grid.bounds(0) == (0.0, 0.0, 400.0, 400.0)
    assert grid.bounds(2) == (600.0, 0.0, 1000.0, 400.0)  # the last column ends at the edge
    assert grid.bounds(4) == (340.0, 100.0, 740.0, 500.0)
    with pytest.raises(InvalidValueError):
        grid.bounds(6)
    with pytest.raises(InvalidValueError):
        Grid(10, 10, 5, 5, 1.0)


def test_otsu_keeps_the_tiles_with_tissue():
    thumb = np.full((100, 200, 3), 240, np.uint8)  # glass
    thumb[10:40, 120:190] = (180, 80, 160)  # a stained patch, top right
    mask = tissue_mask(thumb)
    assert mask[20, 150] and not mask[80, 20]
    grid = Grid(2000, 1000, 500, 500, 0.0)  # 4 x 2 tiles, the thumbnail at a tenth
    assert tiles_with_tissue(mask, grid, 2000, 1000) == [2, 3]
    assert tissue_mask(np.full((10, 10, 3), 200, np.uint8)).all()  # nothing to tell apart: keep all


def test_moves_mark_the_tile_left_and_are_saved(project, small_svs):
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    s = project.start_screening(image_id, tile_size=512, overlap=0.15, skip_background=False)
    w, h = project.image(image_id)["width"], project.image(image_id)["height"]
    assert s.grid.cols == int(np.ceil((w - 512) / (512 * 0.85))) + 1
    assert s.grid.rows == int(np.ceil((h - 512) / (512 * 0.85))) + 1
    assert s.current == 0 and not s.visited
    s.key("d")                      # right, marks 0
    s.key("l")                      # right, marks nothing
    s.key("s")                      # down, marks 2
    assert s.visited == {0, 2}
    assert s.current == 2 + s.grid.cols
    s.key("j")
    assert s.current == 1 + s.grid.cols and s.visited == {0, 2}
    with pytest.raises(InvalidValueError):
        s.key("x")
    # another kernel (another day) resumes at the same tile
    again = xl.open_project(project.location, user="alice")
    resumed = again.start_screening(image_id, tile_size=512, overlap=0.15, skip_background=False)
    assert (resumed.current, resumed.visited, resumed.tiles) == (s.current, s.visited, s.tiles)
    progress = again.screening_progress()
    row = progress.iloc[0]
    assert (row.user, row.tiles, row.screened, row.current_tile) == ("alice", len(s.tiles), 2, s.current)
    assert row.fraction == pytest.approx(2 / len(s.tiles))
    # bob's screening of the same image is his own
    bob = again.start_screening(image_id, tile_size=512, overlap=0.15, skip_background=False, user="bob")
    assert bob.current == 0 and not bob.visited
    assert sorted(again.screening_progress()["user"]) == ["alice", "bob"]
    again.close()


def test_background_tiles_are_left_out_of_a_real_slide(project, small_svs):
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    every = project.start_screening(image_id, tile_size=256, skip_background=False, user="u1")
    tissue = project.start_screening(image_id, tile_size=256, skip_background=True, user="u2")
    assert 0 < len(tissue.tiles) < len(every.tiles)
    # walking right through every tile with d marks them all and stops at the last
    for _ in range(len(tissue.tiles)):
        tissue.key("d")
    assert tissue.done and tissue.current == tissue.tiles[-1]
    assert tissue.status().endswith("(100%)")
