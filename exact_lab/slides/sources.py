"""A pyramid level that tiles can be read from: one of the file's own levels, or one built once
into the cache (``pyramid.py``). Its own module so that ``base`` (which picks a level) and
``pyramid`` / ``vips_reader`` (which build them) depend on it rather than on each other."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class LevelSource:
    downsample: float
    width: int
    height: int
    read: Callable[[float, float, int, int], Image.Image]  # level-pixel x, y (floats), w, h
