"""Independent readers of the test slides: each library's own pixels, to compare tiles against.

A reference knows its native levels and returns a whole level as an RGB array (cached); expected
tiles are cut from it and, for zoomed-out Deep Zoom levels, resampled with Pillow over the exact
rectangle the tile covers. Nothing here uses exact_lab.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache

import numpy as np
from PIL import Image

# A native level within this fraction of a Deep Zoom level's downsample serves it unresampled.
SAME_SCALE = 0.01


def decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(np.int16)


class Reference:
    """Subclasses set ``levels`` [(downsample, (w, h)), ...] and implement ``_level``."""

    levels: list

    def level(self, index: int) -> np.ndarray:
        return self._cached(index)

    @lru_cache(maxsize=2)  # noqa: B019 -- a reference lives for one test
    def _cached(self, index):
        return np.ascontiguousarray(self._level(index))

    def _level(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def region(self, index: int, x0: float, y0: float, w: int, h: int) -> np.ndarray:
        """``w`` x ``h`` pixels of level ``index`` from level-0 position (x0, y0): the nearest
        level pixel (OpenSlide overrides this with its own read)."""
        ds = self.levels[index][0]
        x, y = round(x0 / ds), round(y0 / ds)
        return self.level(index)[y:y + h, x:x + w]

    def expected_tile(self, downsample: float, rect: tuple[int, int, int, int]) -> tuple[np.ndarray, bool] | None:
        """(pixels, exact) of the part of a Deep Zoom tile that lies wholly inside the image:
        ``exact`` when a native level has the tile's scale. None when no whole pixel is inside."""
        x, y, w, h = rect
        index = max(i for i, (ds, _) in enumerate(self.levels) if ds <= downsample * (1 + SAME_SCALE))
        ds, (lw, lh) = self.levels[index]
        ratio = downsample / ds
        if abs(ratio - 1) <= SAME_SCALE:
            ratio = 1.0
        cw = min(w, math.floor(lw / ratio) - x)  # output pixels whose source lies inside the level
        ch = min(h, math.floor(lh / ratio) - y)
        if cw <= 0 or ch <= 0:
            return None
        if ratio == 1.0:
            return self.region(index, x * downsample, y * downsample, cw, ch).astype(np.int16), True
        pixels = self.level(index)
        fx0, fy0, fx1, fy1 = x * ratio, y * ratio, (x + cw) * ratio, (y + ch) * ratio
        sx, sy = math.floor(fx0), math.floor(fy0)
        # the tile's whole footprint: the filter may look past the compared pixels, not past the tile
        part = Image.fromarray(pixels[sy:math.ceil(min((y + h) * ratio, lh)), sx:math.ceil(min((x + w) * ratio, lw))])
        box = (fx0 - sx, fy0 - sy, fx1 - sx, fy1 - sy)
        resized = part.resize((cw, ch), Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)
        return np.asarray(resized).astype(np.int16), False


class OpenSlideReference(Reference):
    def __init__(self, path):
        import openslide

        self.osr = openslide.OpenSlide(str(path))
        self.levels = list(zip(self.osr.level_downsamples, self.osr.level_dimensions))
        colour = self.osr.properties.get(openslide.PROPERTY_NAME_BACKGROUND_COLOR, "ffffff")
        self.background = tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))

    def _level(self, index):
        return self._flat(self.osr.read_region((0, 0), index, self.osr.level_dimensions[index]))

    def region(self, index, x0, y0, w, h):
        return self._flat(self.osr.read_region((round(x0), round(y0)), index, (w, h)))

    def _flat(self, region):
        canvas = Image.new("RGB", region.size, self.background)
        canvas.paste(region, mask=region.getchannel("A"))
        return np.asarray(canvas)


class WsiDicomReference(Reference):
    def __init__(self, path):
        import wsidicom

        self.wsi = wsidicom.WsiDicom.open(str(path))
        base = self.wsi.levels.base_level.level
        self._levels = list(self.wsi.levels)
        self.levels = [(float(2 ** (lv.level - base)), (lv.size.width, lv.size.height)) for lv in self._levels]

    def _level(self, index):
        lv = self._levels[index]
        return np.asarray(self.wsi.read_region((0, 0), lv.level, (lv.size.width, lv.size.height)).convert("RGB"))


class ArrayReference(Reference):
    """One level held as an array (tifffile's read of a plain TIFF, or one plane of a stack)."""

    def __init__(self, array: np.ndarray):
        self.array = array if array.ndim == 3 else np.repeat(array[:, :, None], 3, axis=2)
        self.levels = [(1.0, (self.array.shape[1], self.array.shape[0]))]

    def _level(self, index):
        return self.array
