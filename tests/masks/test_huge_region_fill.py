"""A fill of a region far larger than memory would hold as one array (a 200,000 px square: its
box as a bool array is 37 GiB) is rasterised tile by tile: every pixel is the polygon rule's
(the hole kept), the tiles stored are exactly those with a pixel inside, and the Python heap
stays small."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from exact_lab.masks.region_fill import PolygonOp
from exact_lab.masks.tiles import TILE, polygon_mask

SIZE = 200_000
OUTER = [(1000.5, 700.25), (199000.25, 2000.75), (198500.75, 150000.25), (150000.5, 199300.25), (1500.25, 198000.5)]
HOLE = [(60000.25, 60000.5), (140000.75, 61000.25), (100000.5, 140000.75)]


def windows():
    """Boxes around every vertex, across the long diagonal edge, inside, in the hole and outside."""
    out = []
    for x, y in OUTER + HOLE:
        out.append((int(x) - 300, int(y) - 300, int(x) + 300, int(y) + 300))
    out.append((174000, 174400, 174600, 175000))  # on the diagonal edge (198500, 150000) - (150000, 199300)
    out += [(20000, 20000, 22048, 22048), (95000, 80000, 96024, 81024), (199400, 199400, 200000, 200000)]
    return [(max(x0, 0), max(y0, 0), min(x1, SIZE), min(y1, SIZE)) for x0, y0, x1, y1 in out]


def big_image(proj) -> int:
    # no slide of this size in the test data: the image row is recorded directly
    proj._write(lambda con: con.execute(
        "INSERT INTO images (image_id, name, width, height, levels, frames, mpp) VALUES (1, 'big', ?, ?, 1, 1, 0.25)",
        [SIZE, SIZE]), "big image")
    return 1


def test_a_window_of_polygon_mask_is_the_same_pixels_as_the_whole_box():
    outer = [(100.25, 80.75), (1900.25, 120.25), (1700.75, 1700.25), (300.25, 1620.75)]
    hole = [(350.25, 250.25), (1600.75, 260.25), (500.25, 1480.75)]
    (x0, y0), whole = polygon_mask([outer, hole])
    for wx0, wy0, wx1, wy1 in [(512, 512, 1024, 1024), (90, 70, 400, 300), (1500, 1000, 2100, 1800)]:
        _, part = polygon_mask([outer, hole], (wx0, wy0, wx1, wy1))
        expected = np.zeros((wy1 - wy0, wx1 - wx0), bool)
        sx0, sy0 = max(wx0, x0), max(wy0, y0)
        sx1, sy1 = min(wx1, x0 + whole.shape[1]), min(wy1, y0 + whole.shape[0])
        expected[sy0 - wy0:sy1 - wy0, sx0 - wx0:sx1 - wx0] = whole[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0]
        assert np.array_equal(part, expected), (wx0, wy0, wx1, wy1)


def test_a_fill_tile_by_tile_is_the_whole_box_rule_and_knows_its_uniform_tiles():
    rings = [np.array(OUTER) / 20, np.array(HOLE) / 20]  # 10,000 px: small enough for one array
    width, height = 9900, 10000  # the image cuts the outline on the right
    op = PolygonOp.clipped(1, 0, rings, 3, width, height)
    (x0, y0), m = polygon_mask(rings)
    expected = np.zeros((height, width), bool)
    expected[y0:y0 + m.shape[0], x0:x0 + m.shape[1]] = m[:height - y0, :width - x0]
    got = np.zeros((height, width), np.uint8)
    uniform = 0
    for tx, ty in op.tile_keys():
        tile = op.apply((tx, ty), np.zeros((TILE, TILE), np.uint8))
        part = got[ty * TILE:(ty + 1) * TILE, tx * TILE:(tx + 1) * TILE]
        part[:] = tile[:part.shape[0], :part.shape[1]]
        if op.uniform_over((tx, ty)) is not None:
            uniform += 1
            assert (tile == 3).all(), (tx, ty)
    assert np.array_equal(got == 3, expected)
    assert uniform > 200 and op.uniform_over((0, 0)) is None


@pytest.mark.slow
def test_a_200000_px_region_fills_tile_by_tile_with_its_hole(project):
    tumour = project.add_annotation_type("tumour", "mask")
    image = big_image(project)
    tracemalloc.start()
    try:
        box = project.fill_mask(image, Polygon(OUTER, [HOLE]), "tumour")
        project.flush()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert box == (1000, 700, 199001, 199301)
    # its box as one bool array would be 37 GiB; measured 73 MiB (benchmarks/masks_fill.py)
    assert peak < 512 * 2**20, f"the fill's heap peaked at {peak / 2**20:.0f} MiB"
    for w in windows():
        got = project.mask(image, region=w)
        _, inside = polygon_mask([OUTER, HOLE], w)
        assert np.array_equal(got == tumour, inside), f"{int(((got == tumour) ^ inside).sum())} pixels differ in {w}"
        assert not got[~inside].any()
    # the level-0 tiles stored: every tile wholly inside, and the tiles on the outline that have
    # a pixel centre inside (found with shapely, then the rule over that tile alone)
    shape = Polygon(OUTER, [HOLE])
    n = SIZE // TILE + 1
    tx, ty = np.meshgrid(np.arange(n), np.arange(n))
    boxes = shapely.box(tx * TILE, ty * TILE, (tx + 1) * TILE, (ty + 1) * TILE).ravel()
    inside = int(shapely.contains(shape, boxes).sum())
    on_outline = np.flatnonzero(shapely.intersects(shape.boundary, boxes))
    crossed = sum(bool(polygon_mask([OUTER, HOLE], (x * TILE, y * TILE, min((x + 1) * TILE, SIZE), min((y + 1) * TILE, SIZE)))[1].any())
                  for x, y in zip(tx.ravel()[on_outline], ty.ravel()[on_outline]))
    stored = project.sql("SELECT count(*) FROM mask_tiles WHERE level = 0").fetchone()[0]
    assert stored == inside + crossed, (stored, inside, crossed)
    # and the pyramid up to the one tile of the top level
    levels = dict(project.sql("SELECT level, count(*) FROM mask_tiles GROUP BY level").fetchall())
    assert levels[max(levels)] == 1 and max(levels) == 9
