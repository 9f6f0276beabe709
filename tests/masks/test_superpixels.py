"""Superpixels of a view: each method runs with its parameters, covers the view at the view's
resolution, and a fill paints exactly the level-0 pixels of the chosen superpixels."""

from __future__ import annotations

import numpy as np
import pytest

from exact_lab.errors import InvalidValueError
from exact_lab.masks.superpixels import METHODS, Superpixels, segment
from exact_lab.slides import open_slide


@pytest.fixture(scope="module")
def slide(small_svs):
    return open_slide(small_svs)


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_segments_the_view_at_its_resolution(slide, method):
    sp = Superpixels.of_view(slide, (400, 400, 1200, 1000), (400, 300), method)
    assert sp.labels.shape == (300, 400)  # the view's screen size, not level 0's 800 x 600
    assert sp.labels.min() >= 1 and sp.count >= 5
    assert sp.boundaries().any() and not sp.boundaries().all()


def test_slic_follows_n_segments(slide):
    few = Superpixels.of_view(slide, (0, 0, 800, 800), (400, 400), "slic", n_segments=20)
    many = Superpixels.of_view(slide, (0, 0, 800, 800), (400, 400), "slic", n_segments=400)
    assert few.count < 40 < 200 < many.count


def test_unknown_method_or_parameter_is_refused():
    rgb = np.zeros((10, 10, 3), np.uint8)
    with pytest.raises(InvalidValueError, match="unknown superpixel method"):
        segment(rgb, "kmeans")
    with pytest.raises(InvalidValueError, match="n_segment"):
        segment(rgb, "slic", n_segment=5)


def test_filling_two_superpixels_paints_their_level0_pixels(labelled, slide):
    proj, image_id, tumour, _ = labelled
    sp = Superpixels.of_view(slide, (200, 300, 1000, 900), (400, 300), "slic", n_segments=50)
    a, b = sp.label_at((400, 500)), sp.label_at((800, 700))
    assert a and b and a != b
    proj.queue_mask(sp.fill_op(image_id, 0, [a, b], tumour))
    got = proj.mask(image_id, region=(200, 300, 1000, 900)) == tumour
    # level-0 pixel (x, y) belongs to the superpixel under its centre, at half resolution
    expected = np.isin(sp.labels, [a, b]).repeat(2, 0).repeat(2, 1)
    assert np.array_equal(got, expected)
