"""Patches read through the per-process tile cache are the bytes one read_region gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exact_lab.datasets.dataset import read_patch
from exact_lab.datasets.tilecache import TileCache, native_tile_size
from exact_lab.slides import open_slide

SVS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "slides" / "aperio" / "CMU-1-Small-Region.svs"


@pytest.fixture
def svs():
    if not SVS.exists():
        pytest.skip(f"test slide missing: {SVS}")
    return open_slide(SVS)


def test_cached_patches_equal_direct_reads_inside_across_and_outside_the_edges(svs):
    width, height = svs.dimensions
    cache = TileCache()
    places = [(0, 0), (239, 241), (1000.4, 1500.6), (width - 100, height - 50), (-120, -80), (width + 10, 5)]
    for l0_x, l0_y in places * 2:  # the first pass reads directly, the second through the tiles
        direct = read_patch(svs, l0_x, l0_y, 1.0, 256)
        cached = read_patch(svs, l0_x, l0_y, 1.0, 256, 0, cache)
        assert np.array_equal(direct, cached), (l0_x, l0_y)
    resized = read_patch(svs, 300, 400, 2.5, 128, 0, cache)  # level 0 read, then resampled
    assert np.array_equal(resized, read_patch(svs, 300, 400, 2.5, 128))


def test_the_cache_reads_the_slides_own_tile_grid_and_stays_within_its_bound(svs):
    assert native_tile_size(svs, 0) == (240, 240)
    cache = TileCache(max_bytes=3 * 240 * 240 * 3)
    cache.region(svs, 0, 100, 100, 256, 256)  # touches 2 x 2 stored tiles, wanted for the first time
    assert len(cache._tiles) == 0
    cache.region(svs, 0, 100, 100, 256, 256)  # wanted again: cached, the oldest dropped
    assert len(cache._tiles) == 3 and cache.bytes <= cache.max_bytes
    again = cache.region(svs, 0, 100, 100, 256, 256)
    assert np.array_equal(again, read_patch(svs, 100, 100, 1.0, 256))


def test_expected_tiles_are_cached_on_their_first_demand_with_the_same_bytes(svs):
    cache = TileCache()
    path = str(svs.path)
    cache.expect([(path, 0, 0, col, row) for col in (0, 1) for row in (0, 1)])
    first = cache.region(svs, 0, 100, 100, 256, 256)
    assert cache.bytes == 4 * 240 * 240 * 3  # the 2 x 2 tiles read whole at once
    assert np.array_equal(first, read_patch(svs, 100, 100, 1.0, 256))
    cache.expect([(path, 0, 0, 5, 5)])  # one of the 4 tiles is not expected: a direct read, nothing kept
    cache.region(svs, 0, 5 * 240 - 10, 5 * 240 - 10, 64, 64)
    assert cache.bytes == 4 * 240 * 240 * 3
