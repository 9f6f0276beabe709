"""Mask tiles in the store: exact pixels back, levels kept up to date, versions, diff, restore,
empty tiles not stored, and painting from two processes at once with nothing lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from exact_lab.errors import InvalidValueError, UnknownTypeError
from exact_lab.masks.tiles import TILE, stroke_mask


def tile_rows(proj, image_id, level=None):
    sql = "SELECT level, tile_x, tile_y FROM mask_tiles WHERE image_id = ?"
    params = [image_id]
    if level is not None:
        sql += " AND level = ?"
        params.append(level)
    return sorted(proj.sql(sql, params).fetchall())


def test_set_mask_reads_back_exactly_and_stores_only_painted_tiles(labelled):
    proj, image_id, tumour, stroma = labelled
    rng = np.random.default_rng(0)
    patch = rng.choice([0, tumour, stroma], size=(300, 700)).astype(np.uint8)
    proj.set_mask(image_id, patch, offset=(1000, 600))
    assert np.array_equal(proj.mask(image_id, region=(1000, 600, 1700, 900)), patch)
    # the region straddles tiles (1..3, 1) only; nothing else at level 0
    assert tile_rows(proj, image_id, 0) == [(0, 1, 1), (0, 2, 1), (0, 3, 1)]
    whole = proj.mask(image_id)
    assert whole.shape == (2967, 2220)
    assert np.array_equal(np.asarray(whole[600:900, 1000:1700]), patch)
    assert int(np.asarray(whole).astype(bool).sum()) == int(patch.astype(bool).sum())


def test_erasing_everything_removes_the_tiles(labelled):
    proj, image_id, tumour, _ = labelled
    proj.set_mask(image_id, np.full((100, 100), tumour, np.uint8), offset=(10, 10))
    assert tile_rows(proj, image_id)
    proj.set_mask(image_id, np.zeros((100, 100), np.uint8), offset=(10, 10))
    assert tile_rows(proj, image_id) == []


def test_levels_above_follow_level_zero(labelled):
    proj, image_id, tumour, stroma = labelled
    block = np.zeros((64, 64), np.uint8)
    block[:32] = tumour
    block[32:] = stroma
    proj.set_mask(image_id, block, offset=(2000, 2800))
    lv1 = proj.mask(image_id, region=(2000, 2800, 2064, 2864), level=1)
    assert lv1.shape == (32, 32)
    assert (lv1[:16] == tumour).all() and (lv1[16:] == stroma).all()
    # a one-pixel line stays visible at the top level (first labelled pixel of each 2x2 block)
    line = np.full((1, 2220), stroma, np.uint8)
    proj.set_mask(image_id, line, offset=(0, 5))
    top = proj.mask(image_id, region=(0, 0, 2220, 2967), level=3)
    assert (top[0, :] == stroma).all()
    levels = {lv for lv, _, _ in tile_rows(proj, image_id)}
    assert levels == {0, 1, 2, 3}


def test_a_stroke_paints_the_pixels_within_its_radius(labelled):
    proj, image_id, tumour, _ = labelled
    proj.paint_stroke(image_id, [(100.0, 100.0), (300.0, 140.0)], 20, "tumour")
    proj.paint_stroke(image_id, [(200.0, 120.0)], 8, None)  # erase a dot in its middle
    got = proj.mask(image_id, region=(0, 0, 400, 200))
    ys, xs = np.mgrid[0:200, 0:400] + 0.5
    a, b = np.array([100.0, 100.0]), np.array([300.0, 140.0])
    d = b - a
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / (d @ d), 0, 1)
    inside = (xs - a[0] - t * d[0]) ** 2 + (ys - a[1] - t * d[1]) ** 2 <= 400
    erased = (xs - 200) ** 2 + (ys - 120) ** 2 <= 64
    assert np.array_equal(got == tumour, inside & ~erased)
    assert not got[~inside].any()


def test_stroke_mask_of_a_single_point_is_a_disc():
    (x0, y0), hit = stroke_mask([(10.0, 10.0)], 3.0)
    ys, xs = np.mgrid[y0:y0 + hit.shape[0], x0:x0 + hit.shape[1]] + 0.5
    assert np.array_equal(hit, (xs - 10) ** 2 + (ys - 10) ** 2 <= 9)


def test_time_travel_diff_and_restore(labelled):
    proj, image_id, tumour, stroma = labelled
    proj.set_mask(image_id, np.full((100, 200), tumour, np.uint8), offset=(500, 500))
    proj.commit("v1")
    proj.set_mask(image_id, np.full((50, 100), stroma, np.uint8), offset=(550, 520))   # over tumour
    proj.set_mask(image_id, np.full((10, 10), stroma, np.uint8), offset=(1500, 1500))  # fresh tile
    proj.commit("v2")

    old = proj.mask(image_id, region=(500, 500, 700, 600), version="v1")
    assert (old == tumour).all()
    diff = proj.mask_diff("v1", "v2").set_index("type")
    assert diff.loc["stroma", "pixels_added"] == 50 * 100 + 100
    assert diff.loc["stroma", "pixels_removed"] == 0
    assert diff.loc["tumour", "pixels_removed"] == 50 * 100
    assert diff.loc["tumour", "pixels_added"] == 0
    assert diff.loc["stroma", "tiles"] == 2 and diff.loc["tumour", "tiles"] == 1

    proj.restore("v1")
    assert np.array_equal(proj.mask(image_id, region=(0, 0, 2220, 2967)),
                          proj.mask(image_id, region=(0, 0, 2220, 2967), version="v1"))
    assert proj.mask_diff("v1").empty
    assert {lv for lv, _, _ in tile_rows(proj, image_id)} == {0, 1, 2, 3}
    assert (3, 0, 0) in tile_rows(proj, image_id)
    assert proj.mask(image_id, region=(1500, 1500, 1510, 1510), level=0).max() == 0


def test_stats_count_pixels_and_area(labelled):
    proj, image_id, tumour, stroma = labelled
    proj.set_mask(image_id, np.full((10, 30), tumour, np.uint8), offset=(0, 0))
    proj.set_mask(image_id, np.full((5, 5), stroma, np.uint8), offset=(600, 600))
    stats = proj.mask_stats().set_index("type")
    mpp = float(proj.image(image_id)["mpp"])
    assert stats.loc["tumour", "pixels"] == 300 and stats.loc["stroma", "pixels"] == 25
    assert stats.loc["tumour", "area_um2"] == pytest.approx(300 * mpp * mpp)


def test_bad_input_is_refused(labelled):
    proj, image_id, tumour, _ = labelled
    with pytest.raises(UnknownTypeError, match="not mask types"):
        proj.set_mask(image_id, np.full((4, 4), 99, np.uint8))
    with pytest.raises(InvalidValueError, match="not inside"):
        proj.set_mask(image_id, np.ones((4, 4), np.uint8) * tumour, offset=(2218, 0))
    with pytest.raises(InvalidValueError, match="2-D"):
        proj.set_mask(image_id, np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(InvalidValueError, match="region"):
        proj.mask(image_id, region=(0, 0, 5000, 10))
    assert tile_rows(proj, image_id) == []


PAINTER = Path(__file__).with_name("painter_process.py")


@pytest.mark.slow
def test_two_processes_painting_lose_nothing(labelled, tmp_path):
    proj, image_id, tumour, stroma = labelled
    proj.close()
    # Each process paints 6 stripes on its own tile (different tiles) and 6 on a shared tile (the
    # same tile), half queued through the session and half as direct snapshots.
    procs = [subprocess.Popen([sys.executable, str(PAINTER), str(proj.location), user, str(image_id),
                               str(cls), str(column)])
             for user, cls, column in (("ann", tumour, 0), ("bob", stroma, 1))]
    for p in procs:
        assert p.wait(timeout=300) == 0
    import exact_lab as xl

    again = xl.open_project(proj.location)
    for cls, column in ((tumour, 0), (stroma, 1)):
        own = again.mask(image_id, region=(2 * TILE, 2 * TILE * column, 3 * TILE, 2 * TILE * column + TILE))
        shared = again.mask(image_id, region=(0, 0, TILE, TILE))
        for stripe in range(6):
            assert (own[stripe * 10:stripe * 10 + 5] == cls).all()
            assert not own[stripe * 10 + 5:stripe * 10 + 10].any()
            rows = shared[stripe * 20 + 10 * column: stripe * 20 + 10 * column + 5]
            assert (rows == cls).all(), f"stripe {stripe} of class {cls} lost on the shared tile"
    again.close()


def test_a_slide_wider_than_65536_px_takes_masks_beyond_tile_column_128(project):
    """The tile key (tile_x * 2**24 + tile_y) must not overflow the INT32 tile_x column: a
    100,000 px slide has 196 tile columns."""
    tumour = project.add_annotation_type("tumour", "mask")
    # no slide this wide in the test data: the image row alone (masks need only its size)
    project._write(lambda con: con.execute(
        "INSERT INTO images (image_id, name, width, height, levels, frames, mpp) VALUES (7, 'wide', 100000, 2000, 1, 1, 0.25)"),
        "a wide image")
    block = np.full((100, 700), tumour, np.uint8)
    project.set_mask(7, block, offset=(99_000, 1000))
    project.paint_stroke(7, [(70_000.0, 50.0), (70_100.0, 50.0)], 5.0, tumour)
    got = project.mask(7, region=(98_900, 900, 99_800, 1200))
    assert (got == tumour).sum() == block.size and (got[100:200, 100:800] == tumour).all()
    assert (project.mask(7, region=(69_990, 40, 70_110, 60)) == tumour).sum() > 900
    # the block in tile columns 193, 194 (rows 1, 2), the stroke in column 136 (row 0)
    assert tile_rows(project, 7, 0) == [(0, 136, 0), (0, 193, 1), (0, 193, 2), (0, 194, 1), (0, 194, 2)]
    assert project.mask_stats()["pixels"].sum() == block.size + (project.mask(7, region=(69_990, 40, 70_110, 60)) == tumour).sum()
