"""Scanner formats OpenSlide reads: Aperio, Hamamatsu, MIRAX, Leica, Ventana, Philips, Sakura,
DICOM WSI and generic tiled TIFF."""

from __future__ import annotations

from pathlib import Path

import openslide
from PIL import Image

from .base import Slide

# OpenSlide's vendor name -> the format users know the file by.
_FORMAT_BY_VENDOR = {
    "aperio": "svs",
    "hamamatsu": "ndpi",
    "mirax": "mrxs",
    "leica": "scn",
    "ventana": "bif",
    "philips": "philips-tiff",
    "sakura": "svslide",
    "trestle": "tif",
    "synthetic": "synthetic",
    "dicom": "dicom",
    "generic-tiff": "tiff",
    "zeiss": "czi",
}


def detect(path: Path) -> str | None:
    """OpenSlide's vendor name for the file, or None when OpenSlide does not know it."""
    try:
        return openslide.OpenSlide.detect_format(str(path))
    except Exception:
        return None


def _float(value) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def _hex_colour(text) -> tuple[int, int, int]:
    """OpenSlide's background colour ("RRGGBB"); white when missing or malformed."""
    try:
        return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4)) if text and len(text) == 6 else (255, 255, 255)
    except ValueError:
        return (255, 255, 255)


class OpenSlideSlide(Slide):
    reader = "openslide"

    def __init__(self, path: Path):
        super().__init__(path)
        self._osr = openslide.OpenSlide(str(path))
        self.properties = dict(self._osr.properties)
        self.level_dimensions = tuple(self._osr.level_dimensions)
        self.level_downsamples = tuple(self._osr.level_downsamples)
        self.mpp_x = _float(self.properties.get(openslide.PROPERTY_NAME_MPP_X))
        self.mpp_y = _float(self.properties.get(openslide.PROPERTY_NAME_MPP_Y))
        self.objective_power = _float(self.properties.get(openslide.PROPERTY_NAME_OBJECTIVE_POWER))
        self.vendor = self.properties.get(openslide.PROPERTY_NAME_VENDOR) or "unknown"
        self.alpha_is_background = True
        self.background = _hex_colour(self.properties.get(openslide.PROPERTY_NAME_BACKGROUND_COLOR))
        # Read one pixel of the smallest level so that a damaged file fails here, not mid-view.
        self._osr.read_region((0, 0), self._osr.level_count - 1, (1, 1))
        suffix = path.suffix.lower().lstrip(".")
        if self.vendor == "hamamatsu" and suffix in ("vms", "vmu"):
            self.source_format = suffix
        else:
            self.source_format = _FORMAT_BY_VENDOR.get(self.vendor, suffix or self.vendor)

    def _read_native(self, level, x, y, w, h, frame):
        ds = self.level_downsamples[level]
        # OpenSlide takes the level-0 position (and places levels of uneven downsample itself).
        # RGBA: flattened on the background only where needed (see Slide.tile and encode).
        osr = self._osr
        try:
            return osr.read_region((round(x * ds), round(y * ds)), level, (w, h))
        except openslide.OpenSlideError:
            # OpenSlide's errors are sticky: after one damaged tile every read of the handle fails.
            # A fresh handle keeps the intact parts readable (other threads finish on the old one).
            if self._osr is osr:
                self._osr = openslide.OpenSlide(str(self.path))
            raise

    def _associated_names(self):
        return list(self._osr.associated_images)

    def _read_associated(self, name) -> Image.Image:
        return self._osr.associated_images[name]

    def close(self):
        self._osr.close()
