"""Ordinary images and TIFFs OpenSlide does not take, read with pyvips (Pillow for the few formats
pyvips lacks, such as BMP).

How an image is laid out decides how it is read:
- a tiled pyramid (pages or OME sub-IFDs halving in size): each level read directly;
- a small image (up to ``KEEP_IN_MEMORY_PIXELS``): decoded once and held in memory;
- anything larger: converted once to a tiled pyramidal TIFF in the cache, keyed by content hash.
Planes of a multi-page TIFF, OME-TIFF (z, t, channel) or animated GIF become frames.
"""

from __future__ import annotations

import math
import re
import threading
import warnings
from collections import OrderedDict
from pathlib import Path

import pyvips
from PIL import Image

from .base import Slide
from .pyramid import FORMAT_VERSION, open_pages, pyramid_dir, save_pyramid
from .sources import LevelSource
from .vipsutil import fetch, from_pil, to_display

KEEP_IN_MEMORY_PIXELS = 1_000_000
_OPEN_IMAGES = 64  # pyvips images (file handles) kept open per slide
# A truncated or damaged file must fail loudly; libvips' default shows missing data as black.
FAIL_ON = "error"

_FORMAT_BY_LOADER = {
    "tiffload": "tiff", "pngload": "png", "jpegload": "jpeg", "gifload": "gif", "webpload": "webp",
    "heifload": "heif", "jp2kload": "jp2", "jxlload": "jxl", "ppmload": "ppm", "csvload": "csv",
    "matload": "mat", "vipsload": "vips", "radload": "hdr", "fitsload": "fits", "svgload": "svg",
    "pdfload": "pdf", "magickload": "magick",
}
# Loaders whose resolution fields are screen or print densities, not a microscope's scale.
_NOT_MICROSCOPY = {"png", "jpeg", "gif", "webp", "heif", "bmp", "svg", "pdf"}
_LOSSY = {"jpeg", "webp", "heif", "jp2"}


class VipsSlide(Slide):
    reader = "pyvips"

    def __init__(self, path: Path):
        super().__init__(path)
        self._lock = threading.Lock()
        self._images: OrderedDict = OrderedDict()
        self.properties = {}
        head = self._open_head()
        layout = _describe_tiff(path) if self._loader == "tiffload" else None
        self._ome = bool(layout and layout["ome"])
        self.source_format = "ome-tiff" if self._ome else _FORMAT_BY_LOADER.get(self._loader, path.suffix.lower().lstrip(".") or "image")
        self.vendor = "ome" if self._ome else "generic"
        self.properties.update((layout or {}).get("properties", {}))
        self.properties["exact_lab.loader"] = self._loader
        self._frame_pages = (layout or {}).get("frame_pages") or list(range(self._page_count(head)))
        self.frames = len(self._frame_pages)
        self.frame_axes = (layout or {}).get("frame_axes") or ({"page": self.frames} if self.frames > 1 else {})
        level_sizes = (layout or {}).get("levels") or [(head.width, head.height)]
        self._subifd_levels = bool(layout and layout.get("subifd_levels"))
        if len(level_sizes) > 1:
            self._mode = "pyramid"
        elif head.width * head.height <= KEEP_IN_MEMORY_PIXELS:
            self._mode = "memory"
        elif layout and layout["tiled"]:
            self._mode = "tiled"  # read in place; missing levels get built like any slide's
        else:
            self._mode = "converted"
        self._value_range = None if head.format == "uchar" else self._data_range()
        self.display_range = self._value_range
        if self._mode == "converted":
            self._converted_pages(0)  # convert now: opening is when a wait is expected
        self.level_dimensions = tuple(level_sizes)
        w0 = level_sizes[0][0]
        self.level_downsamples = tuple(w0 / w for w, _ in level_sizes)
        self._set_scale(head, layout)
        # Opening is lazy in libvips: read one pixel so a damaged file fails here, not mid-view.
        smallest = self.level_count - 1
        self._read_native(smallest, 0, 0, 1, 1, 0)

    # -- opening ------------------------------------------------------------------------------
    def _open_head(self) -> pyvips.Image:
        try:
            head = pyvips.Image.new_from_file(str(self.path), access="random", fail_on=FAIL_ON)
            self._loader = head.get("vips-loader")
            self._pil = None
        except pyvips.Error:
            # pyvips-binary has no BMP (and a few other) loaders: Pillow decodes those.
            with warnings.catch_warnings():  # Pillow warns about damaged files it then refuses
                warnings.simplefilter("ignore")
                with Image.open(self.path) as pil:
                    pil.load()
                    self._pil = pil.copy()
            self._loader = f"pil-{self._pil.format.lower()}" if self._pil.format else "pil"
            head = from_pil(self._pil)
        if head.width * head.height == 0:
            raise ValueError("the image has no pixels")
        return head

    def _page_count(self, head) -> int:
        if self._pil is not None:
            return 1
        if self._loader in ("gifload", "webpload", "heifload") and head.get_typeof("n-pages"):
            return max(1, head.get("n-pages"))
        return 1

    def _load(self, level: int, frame: int, access: str = "random") -> pyvips.Image:
        """The pyvips image of ``level`` of ``frame``, as the file stores it."""
        if self._pil is not None:
            return from_pil(self._pil)
        page = self._frame_pages[frame]
        # revalidate: never reuse libvips' cached load, which may hold a failed read as black.
        options = {"access": access, "fail_on": FAIL_ON, "revalidate": True}
        if self._loader in ("tiffload", "gifload", "webpload", "heifload"):
            options["page"] = page
        if self._mode == "pyramid":
            if self._subifd_levels:
                options["subifd"] = level - 1
            else:
                options["page"] = level
        return pyvips.Image.new_from_file(str(self.path), **options)

    def _image(self, level: int, frame: int) -> pyvips.Image:
        key = (level, frame)
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
                return image
        if self._mode == "converted":
            image = self._converted_pages(frame)[0]
        else:
            image = to_display(self._load(level, frame), self._value_range)
            if self._mode == "memory":
                image = image.copy_memory()
        with self._lock:
            self._images[key] = image
            while len(self._images) > _OPEN_IMAGES:
                self._images.popitem(last=False)
        return image

    def _converted_pages(self, frame: int) -> list[pyvips.Image]:
        target = pyramid_dir() / f"{self.content_hash}-full-f{frame}-{FORMAT_VERSION}.tif"
        if not target.exists():
            source = to_display(self._load(0, frame, access="sequential"), self._value_range)
            save_pyramid(source, target, lossless=self.source_format not in _LOSSY and not _jpeg_tiff(self.properties))
        return open_pages(target)

    def _data_range(self) -> tuple[float, float]:
        """Min and max over every frame, so all frames of a stack share one display scale."""
        lo, hi = math.inf, -math.inf
        for frame in range(self.frames):
            stats = self._load(0, frame, access="sequential").stats()  # one pass: row 0 is all bands
            lo, hi = min(lo, stats(0, 0)[0]), max(hi, stats(1, 0)[0])
        return float(lo), float(hi)

    def _set_scale(self, head, layout) -> None:
        if layout and layout.get("mpp"):
            self.mpp_x, self.mpp_y = layout["mpp"]
        elif self.source_format not in _NOT_MICROSCOPY and self._pil is None and head.xres > 1.0:
            # Resolution in pixels per millimetre; 1.0 is libvips' "not recorded".
            self.mpp_x, self.mpp_y = 1000.0 / head.xres, 1000.0 / head.yres
        if layout:
            self.objective_power = layout.get("objective_power")

    # -- reading ------------------------------------------------------------------------------
    def _read_native(self, level, x, y, w, h, frame):
        try:
            return fetch(self._image(level, frame), x, y, w, h)
        except pyvips.Error:
            # libvips keeps a failed tile as black pixels in the image's cache: drop the opened
            # images so that the next read of the damaged part fails again instead of showing black.
            with self._lock:
                self._images.clear()
            raise

    def _built_sources(self, frame):
        if self._mode != "converted":
            return super()._built_sources(frame)
        # The converted file already holds every zoomed-out level; page 0 is the native level.
        pages = self._converted_pages(frame)
        # Page k averages 2^k x 2^k blocks (its size rounded, so not a ratio of widths).
        return [LevelSource(float(2 ** k), p.width, p.height,
                        lambda x, y, w, h, p=p: fetch(p, x, y, w, h))
                for k, p in enumerate(pages) if k > 0]


def _jpeg_tiff(properties: dict) -> bool:
    return properties.get("tiff.Compression") in ("JPEG", "OJPEG", "7", "6")


def _describe_tiff(path: Path) -> dict | None:
    """Structure of a TIFF read from its header: levels, frames, scale, tiling."""
    import tifffile

    try:
        tif = tifffile.TiffFile(str(path))
    except Exception:
        return None
    with tif:
        pages = tif.pages
        first = pages.first
        info: dict = {"tiled": bool(first.is_tiled), "ome": bool(tif.is_ome), "properties": {}}
        for tag in ("ImageDescription", "Software", "DateTime", "Make", "Model", "Artist"):
            value = first.tags.get(tag)
            if value is not None and isinstance(value.value, str):
                info["properties"][f"tiff.{tag}"] = value.value[:4000]
        info["properties"]["tiff.Compression"] = getattr(first.compression, "name", str(first.compression))
        info["mpp"] = _tiff_mpp(first)
        if tif.is_ome:
            _describe_ome(tif, info)
        else:
            sizes = []
            for page in pages:
                if not hasattr(page, "imagewidth"):
                    break
                sizes.append((page.imagewidth, page.imagelength))
                if len(sizes) > 64:
                    break
            if len(sizes) > 1 and all(s == sizes[0] for s in sizes):
                info["frame_pages"] = list(range(len(pages)))
                info["frame_axes"] = {"page": len(pages)}
            else:
                levels = [sizes[0]]
                for size in sizes[1:]:
                    prev = levels[-1]
                    if abs(size[0] * 2 - prev[0]) <= 2 and abs(size[1] * 2 - prev[1]) <= 2:
                        levels.append(size)
                    else:
                        break
                info["levels"] = levels
    return info


def _describe_ome(tif, info: dict) -> None:
    series = tif.series[0]
    plane_axes = [(axis, n) for axis, n in zip(series.axes, series.shape) if axis not in "YXS"]
    info["frame_axes"] = {axis: n for axis, n in plane_axes}
    info["frame_pages"] = [page.index if page is not None else 0 for page in series.pages]
    if len(series.levels) > 1:
        info["levels"] = [(lvl.shape[series.axes.index("X")], lvl.shape[series.axes.index("Y")]) for lvl in series.levels]
        info["subifd_levels"] = True
    xml = tif.ome_metadata or ""
    pixels = re.search(r"<(?:\w+:)?Pixels\b[^>]*>", xml)
    if pixels:
        attrs = dict(re.findall(r'(\w+)="([^"]*)"', pixels.group(0)))
        for key in ("SizeX", "SizeY", "SizeZ", "SizeC", "SizeT", "DimensionOrder", "Type"):
            if key in attrs:
                info["properties"][f"ome.{key}"] = attrs[key]
        mpp = [_ome_length(attrs.get(f"PhysicalSize{a}"), attrs.get(f"PhysicalSize{a}Unit", "µm")) for a in "XY"]
        if mpp[0]:
            info["mpp"] = (mpp[0], mpp[1] or mpp[0])
    objective = re.search(r'<(?:\w+:)?Objective\b[^>]*NominalMagnification="([\d.]+)"', xml)
    if objective:
        info["objective_power"] = float(objective.group(1))


_UM_PER_UNIT = {"µm": 1.0, "um": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6, "Å": 1e-4, "pm": 1e-6}


def _ome_length(value, unit) -> float | None:
    try:
        return float(value) * _UM_PER_UNIT[unit] if value else None
    except (ValueError, KeyError):
        return None


def _tiff_mpp(page) -> tuple[float, float] | None:
    """Microns per pixel from the TIFF resolution tags; None when no absolute unit is recorded."""
    unit = page.tags.get("ResolutionUnit")
    xres, yres = page.tags.get("XResolution"), page.tags.get("YResolution")
    if unit is None or xres is None:
        return None
    um = {2: 25400.0, 3: 10000.0}.get(int(unit.value))
    if um is None:
        return None

    def per_pixel(tag):
        num, den = tag.value if isinstance(tag.value, tuple) else (tag.value, 1)
        return um * den / num if num else None

    mx = per_pixel(xres)
    my = per_pixel(yres) if yres is not None else mx
    return (mx, my) if mx else None
