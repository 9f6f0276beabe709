"""Opening images and slides, Deep Zoom tiles, the shared tile engine, and public aliases.

    from exact_lab.slides import open_slide
    slide = open_slide("slides/a.svs")
    slide.dimensions, slide.mpp, slide.frames
    jpeg = slide.tile(level, col, row)          # Deep Zoom layout, 254 + 1 overlap by default
"""

from __future__ import annotations

from .base import DEFAULT_OVERLAP, DEFAULT_TILE_SIZE, Slide, SlideReadError
from .files import content_hash, file_checksum
from .reader import forget, open_slide

__all__ = [
    "open_slide", "forget", "Slide", "SlideReadError", "file_checksum", "content_hash",
    "DEFAULT_TILE_SIZE", "DEFAULT_OVERLAP", "TileEngine", "default_engine", "slide_urls",
]


def __getattr__(name):
    # The engine and URL helpers are only needed by servers and widgets: import on demand.
    if name in ("TileEngine", "default_engine"):
        from . import engine

        return getattr(engine, name)
    if name == "slide_urls":
        from .urls import slide_urls

        return slide_urls
    raise AttributeError(f"module 'exact_lab.slides' has no attribute {name!r}")
