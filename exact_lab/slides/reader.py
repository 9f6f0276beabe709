"""Minimal slide reader used by the store until the full reader lands: OpenSlide, else pyvips."""

from __future__ import annotations

from pathlib import Path

from ..errors import UnsupportedSlideError


class _Slide:
    def __init__(self, path: Path):
        self.path = path
        self.frames = 1
        self.objective_power = None
        self.mpp = None
        try:
            import openslide

            osr = openslide.OpenSlide(str(path))
            self.dimensions = osr.dimensions
            self.level_count = osr.level_count
            self.level_dimensions = osr.level_dimensions
            props = osr.properties
            self.vendor = props.get(openslide.PROPERTY_NAME_VENDOR) or "generic"
            mpp = props.get(openslide.PROPERTY_NAME_MPP_X)
            self.mpp = float(mpp) if mpp else None
            power = props.get(openslide.PROPERTY_NAME_OBJECTIVE_POWER)
            self.objective_power = float(power) if power else None
            self.source_format = self.vendor
            osr.close()
            return
        except Exception:
            pass
        try:
            import pyvips

            image = pyvips.Image.new_from_file(str(path))
        except Exception as exc:
            raise UnsupportedSlideError(f"{path}: no reader can open it ({exc})") from exc
        self.dimensions = (image.width, image.height)
        self.level_count = 1
        self.level_dimensions = (self.dimensions,)
        self.vendor = "pyvips"
        self.source_format = path.suffix.lstrip(".").lower()
        if image.get("xres") and image.get("xres") > 1:
            self.mpp = 1000.0 / image.get("xres")  # pixels per mm -> microns per pixel


def open_slide(path):
    path = Path(path)
    if not path.exists():
        raise UnsupportedSlideError(f"{path}: no such file")
    return _Slide(path)
