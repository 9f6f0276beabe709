"""Opening images and slides. (Minimal reader; the slides issue replaces it behind this name.)"""

from __future__ import annotations

from .reader import open_slide

__all__ = ["open_slide"]
