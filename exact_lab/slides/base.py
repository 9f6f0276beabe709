"""What every slide offers, whichever library reads it.

A reader subclass describes its native pyramid (``level_dimensions``, ``level_downsamples``) and
reads rectangles from it (``_read_native``). This class turns that into Deep Zoom tiles, regions,
thumbnails and metadata. Zoomed-out Deep Zoom levels that the file lacks are read from levels built
once into the cache (see ``pyramid.py``), so they cost about as much as native ones.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path

from PIL import Image

from ..errors import ExactLabError
from . import files
from .deepzoom import DeepZoomLayout
from .encode import MEDIA_TYPES, WHITE, encode, flatten, normalize_format
from .pyramid import built_levels
from .sources import LevelSource

DEFAULT_TILE_SIZE = 254
DEFAULT_OVERLAP = 1
# Microns per pixel outside this range cannot come from a microscope (a resolution unit mix-up).
PLAUSIBLE_MPP = (0.02, 100.0)
# A level whose downsample is within this fraction of the wanted one is read without resizing.
_SAME_SCALE = 0.01
# Build missing zoomed-out levels once the smallest native level has more pixels than this;
# below it, reading that level whole and shrinking is cheap enough.
BUILD_LEVELS_ABOVE_PIXELS = 1024 * 1024
MIN_BUILT_SIDE = 64


class SlideReadError(ExactLabError):
    """Pixels that could not be read from a slide that did open (a damaged file)."""


class AssociatedImages(Mapping):
    """name -> PIL image, read only when asked for."""

    def __init__(self, names, loader):
        self._names = list(names)
        self._loader = loader
        self._loaded: dict[str, Image.Image] = {}

    def __getitem__(self, name):
        if name not in self._names:
            raise KeyError(name)
        if name not in self._loaded:
            self._loaded[name] = self._loader(name)
        return self._loaded[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)

    def __repr__(self):
        return f"AssociatedImages({self._names})"


class Slide:
    """An opened slide or image. Get one with ``open_slide(path)``; it is shared, do not close it."""

    reader = "base"
    # Set by subclasses in __init__.
    level_dimensions: tuple = ()
    level_downsamples: tuple = ()
    mpp_x: float | None = None
    mpp_y: float | None = None
    objective_power: float | None = None
    vendor: str = "unknown"
    source_format: str = "unknown"
    frames: int = 1
    properties: dict = {}
    # Colour of the unscanned area. True when transparency only means "no data here" (scanner
    # formats): tiles are flattened on the background; ordinary images keep real transparency.
    background: tuple = WHITE
    alpha_is_background: bool = False

    def __init__(self, path: Path):
        self.path = Path(path)
        self.signature = files.stat_signature(self.path)
        self._layouts: dict[tuple[int, int], DeepZoomLayout] = {}
        self._built: dict[int, list[LevelSource]] = {}
        self._build_lock = threading.Lock()

    # -- reader interface ---------------------------------------------------------------------
    def _read_native(self, level: int, x: float, y: float, w: int, h: int, frame: int) -> Image.Image:
        """Read ``w`` x ``h`` pixels of native ``level`` starting at level coordinates (x, y),
        inside bounds. Fractional coordinates: the nearest pixel, or (OpenSlide) the exact place."""
        raise NotImplementedError

    def _associated_names(self) -> list[str]:
        return []

    def _read_associated(self, name: str) -> Image.Image:
        raise KeyError(name)

    def close(self) -> None:
        """Release file handles (only needed for slides not shared through ``open_slide``)."""

    # -- metadata -----------------------------------------------------------------------------
    @property
    def dimensions(self) -> tuple[int, int]:
        return self.level_dimensions[0]

    @property
    def level_count(self) -> int:
        return len(self.level_dimensions)

    @property
    def mpp(self) -> float | None:
        return self.mpp_x

    @property
    def mpp_suspicious(self) -> bool:
        """True when the recorded microns per pixel cannot be right (e.g. off by a power of ten)."""
        lo, hi = PLAUSIBLE_MPP
        return any(v is not None and not lo <= v <= hi for v in (self.mpp_x, self.mpp_y))

    @cached_property
    def associated_images(self) -> AssociatedImages:
        return AssociatedImages(self._associated_names(), self._load_associated)

    def _load_associated(self, name: str) -> Image.Image:
        try:
            return flatten(self._read_associated(name)).convert("RGB")
        except KeyError:
            raise
        except Exception as exc:
            raise SlideReadError(f"{self.path}: cannot read associated image {name!r} ({exc})") from exc

    @cached_property
    def content_hash(self) -> str:
        """Short hash that changes with the content; used to make tile URLs immutable."""
        return files.content_hash(self.path)

    def info(self, *, public: bool = False, tile_size: int | None = None, overlap: int | None = None) -> dict:
        """Metadata as plain JSON types. ``public`` drops everything that could name the file or
        patient (path, properties, label and macro photographs) for pseudonymised images."""
        layout = self.deepzoom(tile_size, overlap)
        info = {
            "width": self.dimensions[0],
            "height": self.dimensions[1],
            "level_count": self.level_count,
            "level_dimensions": [list(d) for d in self.level_dimensions],
            "level_downsamples": list(self.level_downsamples),
            "mpp": self.mpp,
            "mpp_x": self.mpp_x,
            "mpp_y": self.mpp_y,
            "mpp_suspicious": self.mpp_suspicious,
            "objective_power": self.objective_power,
            "vendor": self.vendor,
            "source_format": self.source_format,
            "reader": self.reader,
            "frames": self.frames,
            "tile_size": layout.tile_size,
            "overlap": layout.overlap,
            "dz_levels": layout.level_count,
            "associated_images": list(self.associated_images),
            "content_hash": self.content_hash,
        }
        if public:
            info["associated_images"] = [n for n in info["associated_images"] if n not in PRIVATE_ASSOCIATED]
        else:
            info["path"] = str(self.path)
            info["name"] = self.path.name
            info["properties"] = {k: str(v) for k, v in self.properties.items()}
        return info

    # -- Deep Zoom ----------------------------------------------------------------------------
    def deepzoom(self, tile_size: int | None = None, overlap: int | None = None) -> DeepZoomLayout:
        key = (tile_size or DEFAULT_TILE_SIZE, DEFAULT_OVERLAP if overlap is None else overlap)
        layout = self._layouts.get(key)
        if layout is None:
            layout = self._layouts[key] = DeepZoomLayout(*self.dimensions, *key)
        return layout

    def dzi(self, format: str = "jpeg", tile_size: int | None = None, overlap: int | None = None) -> str:
        return self.deepzoom(tile_size, overlap).dzi(format)

    def tile(self, level: int, col: int, row: int, frame: int = 0, format: str = "jpeg", *,
             tile_size: int | None = None, overlap: int | None = None, quality: int | None = None) -> bytes:
        """One Deep Zoom tile, encoded. IndexError for a tile or frame that does not exist."""
        image = self.tile_image(level, col, row, frame, tile_size=tile_size, overlap=overlap)
        if self.alpha_is_background and normalize_format(format) != "jpeg":
            image = flatten(image, self.background)  # (JPEG encoding flattens more cheaply itself)
        return encode(image, format, quality, self.background)

    def tile_image(self, level: int, col: int, row: int, frame: int = 0, *,
                   tile_size: int | None = None, overlap: int | None = None) -> Image.Image:
        layout = self.deepzoom(tile_size, overlap)
        x, y, w, h = layout.tile_rect(level, col, row)
        self._check_frame(frame)
        return self._render(layout.downsample(level), x, y, w, h, frame)

    def _render(self, downsample: float, x: int, y: int, w: int, h: int, frame: int) -> Image.Image:
        """Pixels of the (x, y, w, h) rectangle of the image shrunk ``downsample`` times."""
        try:
            source = self._source_for(downsample, frame)
        except (ExactLabError, IndexError, ValueError):
            raise
        except Exception as exc:  # e.g. a conversion of a damaged file
            raise SlideReadError(f"{self.path}: cannot read pixels ({exc})") from exc
        ratio = downsample / source.downsample  # source pixels per output pixel
        if abs(ratio - 1) <= _SAME_SCALE:
            # The level has the tile's scale (scanners round: 2.0005 for 2): its pixels as they
            # are, from the exact position (OpenSlide places level-0 x * downsample itself).
            sx, sy = x * ratio, y * ratio
            cw = max(1, min(w, source.width - round(sx)))
            ch = max(1, min(h, source.height - round(sy)))
            image = self._read(source, sx, sy, cw, ch)
        else:
            # The rectangle in source pixels (fractional), cut at the source's edge, resampled.
            fx0, fy0 = x * ratio, y * ratio
            fx1, fy1 = min((x + w) * ratio, source.width), min((y + h) * ratio, source.height)
            sx, sy = min(math.floor(fx0), source.width - 1), min(math.floor(fy0), source.height - 1)
            sw = max(1, min(math.ceil(fx1), source.width) - sx)
            sh = max(1, min(math.ceil(fy1), source.height) - sy)
            image = self._read(source, sx, sy, sw, sh)
            # Output pixels wholly inside the source keep their exact footprint; a last partial
            # one is filled below (or, if it is the only one, made from what there is).
            cw = min(w, math.floor((fx1 - fx0) / ratio + 1e-9)) or 1
            ch = min(h, math.floor((fy1 - fy0) / ratio + 1e-9)) or 1
            box = (fx0 - sx, fy0 - sy, min(fx0 + cw * ratio, fx1) - sx, min(fy0 + ch * ratio, fy1) - sy)
            if self.alpha_is_background:  # resampling would smear "no data" into the pixels
                image = flatten(image, self.background)
            image = image.resize((cw, ch), Image.Resampling.LANCZOS, box=box, reducing_gap=2.0)
        if (cw, ch) != (w, h):
            # A level whose size was rounded down lacks the image's last partial pixel: repeat the
            # last row or column (stretching the whole tile instead would shift every pixel).
            image = _extend_edges(image, w, h)
        return image

    def _read(self, source: LevelSource, x: float, y: float, w: int, h: int) -> Image.Image:
        try:
            return source.read(x, y, w, h)
        except (IndexError, ValueError):
            raise
        except Exception as exc:
            raise SlideReadError(f"{self.path}: cannot read pixels ({exc})") from exc

    def _source_for(self, downsample: float, frame: int) -> LevelSource:
        """The coarsest level that still has at least the detail ``downsample`` asks for."""
        sources = self._native_sources(frame)
        lowest = sources[-1]
        if downsample / lowest.downsample > 2 and lowest.width * lowest.height > BUILD_LEVELS_ABOVE_PIXELS:
            # Built levels drop the partial pixels at the edge when rounding down their size, which
            # only matters for the tiniest ones: those are made from a larger one instead.
            sources = sources + [s for s in self._built_sources(frame) if min(s.width, s.height) >= MIN_BUILT_SIDE]
        best = sources[0]
        for source in sources:
            if source.downsample <= downsample * (1 + _SAME_SCALE):
                best = source
        return best

    def _native_sources(self, frame: int) -> list[LevelSource]:
        return [
            LevelSource(ds, w, h, lambda x, y, sw, sh, level=level: self._read_native(level, x, y, sw, sh, frame))
            for level, ((w, h), ds) in enumerate(zip(self.level_dimensions, self.level_downsamples))
        ]

    def _built_sources(self, frame: int) -> list[LevelSource]:
        """Levels below the smallest native one, built once (per frame) into the cache."""
        built = self._built.get(frame)
        if built is None:
            with self._build_lock:
                built = self._built.get(frame)
                if built is None:
                    try:
                        built = built_levels(self, frame)
                    except Exception as exc:  # a damaged file: fail the same way every time, fast
                        built = SlideReadError(f"{self.path}: cannot build zoomed-out levels ({exc})")
                    self._built[frame] = built
        if isinstance(built, SlideReadError):
            raise built
        return built

    # -- regions and thumbnails ---------------------------------------------------------------
    def read_region(self, location: tuple[int, int], level: int, size: tuple[int, int], frame: int = 0) -> Image.Image:
        """OpenSlide-style read: ``location`` in level-0 pixels, ``size`` in ``level`` pixels.
        Returns RGBA (transparent outside the image) or RGB."""
        if not 0 <= level < self.level_count:
            raise IndexError(f"level {level} outside 0..{self.level_count - 1}")
        self._check_frame(frame)
        w, h = size
        ds = self.level_downsamples[level]
        lw, lh = self.level_dimensions[level]
        lx, ly = location[0] / ds, location[1] / ds
        px, py = round(lx), round(ly)
        x0, y0 = max(0, px), max(0, py)
        x1, y1 = min(lw, px + w), min(lh, py + h)
        if (x0, y0) == (px, py) and (x1 - x0, y1 - y0) == (w, h):
            return _public_mode(self._read_native(level, lx, ly, w, h, frame))
        canvas = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        if x1 > x0 and y1 > y0:
            part = self._read_native(level, x0, y0, x1 - x0, y1 - y0, frame)
            canvas.paste(part.convert("RGBA"), (x0 - px, y0 - py))
        return canvas

    def thumbnail(self, size=512, frame: int = 0) -> Image.Image:
        """An RGB image fitting in ``size`` (an int or a (w, h) box), aspect kept."""
        box = (size, size) if isinstance(size, int) else tuple(size)
        self._check_frame(frame)
        width, height = self.dimensions
        scale = max(width / box[0], height / box[1], 1.0)
        target = (max(1, round(width / scale)), max(1, round(height / scale)))
        image = self._render(scale, 0, 0, *target, frame) if scale > 1 else self._render(1, 0, 0, width, height, frame)
        return flatten(image, self.background).convert("RGB")

    def _check_frame(self, frame: int) -> None:
        if not 0 <= frame < self.frames:
            raise IndexError(f"frame {frame} outside 0..{self.frames - 1}")

    def __repr__(self):
        return (f"<{type(self).__name__} {self.path.name!r} {self.dimensions[0]}x{self.dimensions[1]} "
                f"levels={self.level_count} frames={self.frames} vendor={self.vendor!r}>")


# Label and macro photographs often show the patient's name or barcode.
PRIVATE_ASSOCIATED = frozenset({"label", "macro"})


def _extend_edges(image: Image.Image, w: int, h: int) -> Image.Image:
    """``image`` grown to (w, h) by repeating its last column and row."""
    canvas = Image.new(image.mode, (w, h))
    canvas.paste(image, (0, 0))
    iw, ih = image.size
    if w > iw:
        canvas.paste(image.crop((iw - 1, 0, iw, ih)).resize((w - iw, ih)), (iw, 0))
    if h > ih:
        canvas.paste(canvas.crop((0, ih - 1, w, ih)).resize((w, h - ih)), (0, ih))
    return canvas


def _public_mode(image: Image.Image) -> Image.Image:
    if image.mode == "L":
        return image.convert("RGB")
    if image.mode == "LA":
        return image.convert("RGBA")
    return image


__all__ = ["Slide", "SlideReadError", "AssociatedImages", "MEDIA_TYPES", "DEFAULT_TILE_SIZE", "DEFAULT_OVERLAP"]
