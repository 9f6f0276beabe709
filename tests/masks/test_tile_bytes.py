"""The bytes of a mask tile: the run layout and the raw one both give the tile back exactly,
tiles written by earlier releases too."""

from __future__ import annotations

import numpy as np
import pytest
import zstandard

from exact_lab.errors import InvalidValueError
from exact_lab.masks.tiles import TILE, decode_tile, encode_tile


def blob_tile(rng, classes=(1, 2)) -> np.ndarray:
    """A label tile of a few rectangles: long runs, as painted masks have."""
    tile = np.zeros((TILE, TILE), np.uint16)
    for cls in classes:
        x, y = rng.integers(0, TILE - 100, 2)
        w, h = rng.integers(10, 200, 2)
        tile[y:y + h, x:x + w] = cls
    return tile


@pytest.mark.parametrize("classes", [(1, 2), (7,), (300, 65535)])
def test_run_layout_gives_the_tile_back(classes):
    rng = np.random.default_rng(len(classes))
    tile = blob_tile(rng, classes)
    data = encode_tile(tile)
    assert data[:1] == (b"\x03" if max(classes) < 256 else b"\x04")
    back = decode_tile(data)
    assert np.array_equal(back, tile)
    assert back.dtype == (np.uint8 if max(classes) < 256 else np.uint16)
    # runs of a blob tile are far fewer bytes than its pixels under the same zstd
    assert len(data) < len(zstandard.ZstdCompressor(level=3).compress(tile.astype(back.dtype).tobytes()))


def test_noise_stays_raw_and_exact():
    rng = np.random.default_rng(3)
    tile = rng.integers(0, 4, (TILE, TILE)).astype(np.uint8)
    data = encode_tile(tile)
    assert data[:1] == b"\x01"
    assert np.array_equal(decode_tile(data), tile)


def test_a_run_crossing_no_row_end_and_single_pixels_are_exact():
    tile = np.zeros((TILE, TILE), np.uint8)
    tile[:, TILE - 1] = 5           # the last pixel of every row: runs end at each row's end
    tile[10, 0] = 3                 # a one-pixel run at a row's start
    tile[TILE - 1, :] = 9           # a whole row
    assert np.array_equal(decode_tile(encode_tile(tile)), tile)
    assert encode_tile(np.zeros((TILE, TILE), np.uint8)) is None


def test_tiles_in_the_earlier_raw_layout_still_decode():
    rng = np.random.default_rng(4)
    tile = blob_tile(rng)
    earlier = b"\x01" + zstandard.ZstdCompressor(level=3).compress(tile.astype(np.uint8).tobytes())
    assert np.array_equal(decode_tile(earlier), tile)
    wide = tile * 1000
    earlier16 = b"\x02" + zstandard.ZstdCompressor(level=3).compress(wide.astype(np.uint16).tobytes())
    assert np.array_equal(decode_tile(earlier16), wide)


def test_an_unknown_layout_byte_is_refused():
    with pytest.raises(InvalidValueError, match="layout byte"):
        decode_tile(b"\x09" + zstandard.ZstdCompressor().compress(b"\x00" * 16))
