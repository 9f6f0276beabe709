"""Pyramid levels built once into the cache folder with pyvips.

Two cases: a slide whose smallest native level is still large (CMU-1-Small-Region has a single
2220x2967 level) gets the missing zoomed-out levels built from that level; a large image that is not
tiled (a plain TIFF, PNG or JPEG) is converted whole to a tiled pyramidal TIFF. Files are named by
the slide's content hash, so a changed file gets new ones, and written under a temporary name and
renamed, so a reader never sees half a file (several processes may build at once; the last rename
wins, with identical content).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyvips

from .cachedir import cache_dir, temporary_sibling
from .encode import flatten
from .sources import LevelSource
from .vipsutil import fetch

FORMAT_VERSION = "v1"
TILE = 256
# Above this many bytes the level being shrunk is staged in a file instead of memory.
_IN_MEMORY_BYTES = 512 << 20
_STRIP_PIXELS = 16 << 20


def pyramid_dir() -> Path:
    return cache_dir("pyramids")


def save_pyramid(image: pyvips.Image, target: Path, lossless: bool) -> None:
    """Write ``image`` as a tiled pyramidal TIFF (every level down to one tile) at ``target``."""
    tmp = temporary_sibling(target, ".tif")
    try:
        options = dict(tile=True, tile_width=TILE, tile_height=TILE, pyramid=True,
                       bigtiff=image.width * image.height * image.bands > (3 << 30))
        if lossless or image.bands in (2, 4):
            options.update(compression="deflate", predictor="horizontal")
        else:
            options.update(compression="jpeg", Q=90)
        image.tiffsave(str(tmp), **options)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def open_pages(path: Path) -> list[pyvips.Image]:
    """Every level of a pyramidal TIFF written by ``save_pyramid``, largest first."""
    first = pyvips.Image.new_from_file(str(path), page=0, access="random")
    count = first.get("n-pages") if first.get_typeof("n-pages") else 1
    return [first] + [pyvips.Image.new_from_file(str(path), page=k, access="random") for k in range(1, count)]


def built_levels(slide, frame: int):
    """Sources for the levels below ``slide``'s smallest native level, building them if needed."""
    level = slide.level_count - 1
    target = pyramid_dir() / f"{slide.content_hash}-below{level}-f{frame}-{FORMAT_VERSION}.tif"
    if not target.exists():
        _build_below(slide, level, frame, target)
    ds = slide.level_downsamples[level]
    # Page k averages 2^(k+1) x 2^(k+1) blocks of the native level. Its size was rounded, so its
    # downsample is that power of two, not a ratio of widths.
    return [LevelSource(ds * 2 ** (k + 1), page.width, page.height,
                    lambda x, y, w, h, page=page: fetch(page, x, y, w, h))
            for k, page in enumerate(open_pages(target))]


def _build_below(slide, level: int, frame: int, target: Path) -> None:
    width, height = slide.level_dimensions[level]
    probe = _flat(slide, slide._read_native(level, 0, 0, 1, 1, frame))
    bands = len(probe.getbands())
    nbytes = width * height * bands
    staging = None
    if nbytes <= _IN_MEMORY_BYTES:
        pixels = np.empty((height, width, bands), np.uint8)
    else:
        staging = temporary_sibling(target, ".raw")
        pixels = np.memmap(staging, np.uint8, "w+", shape=(height, width, bands))
    try:
        rows = max(1, _STRIP_PIXELS // width)
        for y in range(0, height, rows):
            h = min(rows, height - y)
            strip = np.asarray(_flat(slide, slide._read_native(level, 0, y, width, h, frame)))
            pixels[y:y + h] = strip.reshape(h, width, bands)
        image = pyvips.Image.new_from_memory(pixels.data, width, height, bands, "uchar")
        # shrink() averages 2x2 blocks: the first missing level; tiffsave makes the rest.
        save_pyramid(image.shrink(2, 2), target, lossless=False)
    finally:
        del pixels
        if staging is not None:
            staging.unlink(missing_ok=True)


def _flat(slide, image):
    """Scanner regions are RGBA where transparency means "no data": build on the background."""
    if not slide.alpha_is_background:
        return image
    return flatten(image, slide.background)
