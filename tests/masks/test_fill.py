"""Filling a closed region: every pixel whose centre is inside the polygon gets the class, holes
and the outside stay as they were, from Python (``proj.fill_mask``) and from the viewer's fill
tool (``mask_polygon``), undone like a stroke."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Polygon

from exact_lab.errors import InvalidValueError, UnknownTypeError
from exact_lab.masks.tiles import polygon_mask

from .test_viewer_tools import Sent, send

# shapely's "contains" is an independent oracle for the even-odd rule, away from the edges (a
# centre exactly on an edge is inside for one rule and outside for the other)
OUTER = [(100.25, 80.75), (900.25, 120.25), (700.75, 700.25), (300.25, 620.75), (140.75, 400.25)]
HOLE = [(350.25, 250.25), (600.75, 260.25), (500.25, 480.75)]


def centres_inside(geom, box):
    x0, y0, x1, y1 = box
    cx, cy = np.meshgrid(np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5)
    return shapely.contains_xy(geom, cx, cy)


def on_edge(geom, box):
    """Pixels whose centre lies on the outline (within 1e-9 px)."""
    x0, y0, x1, y1 = box
    cx, cy = np.meshgrid(np.arange(x0, x1) + 0.5, np.arange(y0, y1) + 0.5)
    return shapely.distance(geom.boundary, shapely.points(cx, cy)) < 1e-9


def same_off_edge(got, geom, box):
    edge = on_edge(geom, box)
    return np.array_equal(got[~edge], centres_inside(geom, box)[~edge]) and edge.sum() < 50


def rule(*rings, window=(0, 0, 1000, 800)):
    """polygon_mask's pixels of ``rings`` placed in ``window``."""
    (x0, y0), m = polygon_mask(rings)
    out = np.zeros((window[3] - window[1], window[2] - window[0]), bool)
    out[y0 - window[1]:y0 - window[1] + m.shape[0], x0 - window[0]:x0 - window[0] + m.shape[1]] = m
    return out


def test_polygon_mask_takes_the_pixels_whose_centre_is_inside_even_odd():
    (x0, y0), m = polygon_mask([OUTER, HOLE])
    assert (x0, y0) == (100, 80)
    box = (x0, y0, x0 + m.shape[1], y0 + m.shape[0])
    assert same_off_edge(m, Polygon(OUTER, [HOLE]), box)
    assert m.sum() > 200_000
    # a self-crossing outline (a bow tie): both lobes, by the same rule
    bow = [(10.25, 10.25), (60.75, 50.75), (60.75, 10.25), (10.25, 50.75)]
    (bx, by), b = polygon_mask([bow])
    lobes = shapely.make_valid(Polygon(bow))
    assert same_off_edge(b, lobes, (bx, by, bx + b.shape[1], by + b.shape[0]))


def test_fill_mask_paints_inside_leaves_the_hole_and_the_outside(labelled):
    proj, image_id, tumour, stroma = labelled
    around = np.full((800, 1000), stroma, np.uint8)  # what was there before
    proj.set_mask(image_id, around, offset=(0, 0))
    box = proj.fill_mask(image_id, Polygon(OUTER, [HOLE]), "tumour")
    assert box == (100, 80, 901, 701)
    got = proj.mask(image_id, region=(0, 0, 1000, 800))
    inside = rule(OUTER, HOLE)
    assert np.array_equal(got == tumour, inside)
    assert same_off_edge(inside, Polygon(OUTER, [HOLE]), (0, 0, 1000, 800))
    assert (got[~inside] == stroma).all()  # the hole and the outside keep the old class
    hole = rule(HOLE)
    assert hole.sum() > 20_000 and (got[hole] == stroma).all()
    # a list of rings is the same polygon, and None erases
    proj.fill_mask(image_id, [OUTER, HOLE], None)
    got = proj.mask(image_id, region=(0, 0, 1000, 800))
    assert not got[inside].any() and (got[~inside] == stroma).all()


def test_a_polygon_over_the_edge_is_clipped_to_the_image(labelled):
    proj, image_id, tumour, _ = labelled
    width, height = 2220, 2967
    proj.fill_mask(image_id, [(2000.0, 2800.0), (2600.0, 2800.0), (2600.0, 3200.0), (2000.0, 3200.0)], tumour)
    assert proj.mask_stats()["pixels"].sum() == (width - 2000) * (height - 2800)
    assert proj.fill_mask(image_id, [(3000.0, 0.0), (3100.0, 0.0), (3100.0, 50.0)], tumour) == (0, 0, 0, 0)


def test_a_bad_polygon_is_refused_naming_what_is_wrong(labelled):
    proj, image_id, _, _ = labelled
    with pytest.raises(InvalidValueError, match="ring 1 needs at least 3"):
        proj.fill_mask(image_id, [OUTER, [(1, 1), (2, 2)]], "tumour")
    with pytest.raises(InvalidValueError, match="LineString"):
        proj.fill_mask(image_id, shapely.LineString([(0, 0), (5, 5)]), "tumour")
    with pytest.raises(UnknownTypeError, match="no mask type 'nerve'"):
        proj.fill_mask(image_id, OUTER, "nerve")


def test_the_fill_tool_message_stores_the_region_and_undo_redo_follow(labelled):
    proj, image_id, tumour, _ = labelled
    v = proj.viewer(image_id)
    sent = Sent(v)
    send(v, {"type": "mask_polygon", "seq": 1, "type_id": tumour, "frame": 0}, OUTER)
    proj.flush()
    inside = rule(OUTER)
    assert np.array_equal(proj.mask(image_id, region=(0, 0, 1000, 800)) == tumour, inside)
    assert proj.mask_stats()["pixels"].sum() == inside.sum()
    assert sent.of("mask_changed")
    send(v, {"type": "mask_polygon", "seq": 2, "type_id": 0, "frame": 0}, HOLE)  # right-drag: erase
    proj.flush()
    hole = rule(HOLE)
    assert np.array_equal(proj.mask(image_id, region=(0, 0, 1000, 800)) == tumour, inside & ~hole)
    send(v, {"type": "mask_history", "step": -1})
    assert np.array_equal(proj.mask(image_id, region=(0, 0, 1000, 800)) == tumour, inside)
    send(v, {"type": "mask_history", "step": -1})
    assert not proj.mask(image_id, region=(0, 0, 1000, 800)).any()
    send(v, {"type": "mask_history", "step": 1})
    assert np.array_equal(proj.mask(image_id, region=(0, 0, 1000, 800)) == tumour, inside)
