"""Pixel labels: one class-index label image per image and frame, stored as compressed tiles in
the project store (``mask_tiles``), so masks are versioned, diffed and restored like shapes."""

from .tiles import TILE, MaskOp

__all__ = ["TILE", "MaskOp"]
