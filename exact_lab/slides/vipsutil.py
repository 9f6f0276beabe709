"""Small bridges between pyvips images and PIL tiles."""

from __future__ import annotations

import numpy as np
import pyvips
from PIL import Image

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def fetch(image: pyvips.Image, x: float, y: float, w: int, h: int) -> Image.Image:
    """Pixels of a uchar image as PIL, from the pixel nearest to (x, y). A Region reads just the
    needed tiles and skips libvips' operation cache, about twice as fast as crop() for tiles."""
    x = max(0, min(round(x), image.width - 1))
    y = max(0, min(round(y), image.height - 1))
    w = max(1, min(w, image.width - x))
    h = max(1, min(h, image.height - y))
    data = pyvips.Region.new(image).fetch(x, y, w, h)
    mode = _MODES[image.bands]
    return Image.frombuffer(mode, (w, h), data, "raw", mode, 0, 1)


def from_pil(image: Image.Image) -> pyvips.Image:
    """A PIL image (any mode) as an 8-bit pyvips image held in memory."""
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" and "transparency" in image.info else "RGB")
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[:, :, None]
    return pyvips.Image.new_from_memory(np.ascontiguousarray(array).data, image.width, image.height,
                                        array.shape[2], "uchar")


def to_display(image: pyvips.Image, value_range: tuple[float, float] | None) -> pyvips.Image:
    """An image a browser can show: sRGB or grey, 8 bits, at most one alpha band.

    Anything that is not 8-bit unsigned is stretched linearly from ``value_range`` (the data's
    min and max) to 0..255, so 12-bit or signed data is not shown black.
    """
    if image.interpretation in ("cmyk", "lab", "labs", "lch", "xyz", "yxy", "hsv", "scrgb"):
        image = image.colourspace("srgb")
    if image.bands > 4:
        image = image.extract_band(0, n=3)
    if image.format != "uchar":
        lo, hi = value_range or (float(image.min()), float(image.max()))
        scale = 255.0 / (hi - lo) if hi > lo else 1.0
        image = ((image - lo) * scale).cast("uchar")
    return image
