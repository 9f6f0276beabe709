"""``open_slide``: pick the reader for a file and share opened slides.

Order: PyAV for video files (by extension); OpenSlide for the scanner formats it detects; wsidicom for DICOM WSI that OpenSlide refuses
(and DICOM folders); pyvips (or Pillow) for everything else. A slide is opened once per resolved
path and reopened only when a file of it changes (mtime, size or count).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

from ..errors import UnsupportedSlideError
from . import files
from .base import Slide

# Opened slides kept alive. Evicting one only drops our reference: holders keep using it.
MAX_OPEN_SLIDES = 128

# Extensions only scanner formats use: when OpenSlide refuses one, say so in the error.
# Video containers, read as images with frames by PyAV (imported only when one is opened).
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".avi", ".mkv", ".mov", ".webm"})
SCANNER_SUFFIXES = frozenset({".svs", ".ndpi", ".vms", ".vmu", ".mrxs", ".scn", ".bif", ".svslide"})

_open: OrderedDict[Path, Slide] = OrderedDict()
_open_lock = threading.Lock()
_path_locks: dict[Path, threading.Lock] = {}


def open_slide(path: str | os.PathLike) -> Slide:
    """Open a slide or image; returns a ``Slide`` (dimensions, level_count, level_dimensions, mpp,
    frames, tile(level, col, row)). Raises ``UnsupportedSlideError`` naming the file and the reason."""
    given = Path(path).expanduser()
    resolved = given.resolve()
    if not resolved.exists():
        raise UnsupportedSlideError(f"{given}: no such file or folder")
    try:
        signature = files.stat_signature(resolved)
    except OSError as exc:
        raise UnsupportedSlideError(f"{given}: cannot read it ({exc.strerror or exc})") from exc
    with _open_lock:
        slide = _open.get(resolved)
        if slide is not None and slide.signature == signature:
            _open.move_to_end(resolved)
            return slide
        lock = _path_locks.setdefault(resolved, threading.Lock())
    with lock:  # two threads asking for the same new slide open it once
        with _open_lock:
            slide = _open.get(resolved)
            if slide is not None and slide.signature == signature:
                return slide
        slide = _open_uncached(resolved, given)
        with _open_lock:
            _open[resolved] = slide
            _open.move_to_end(resolved)
            while len(_open) > MAX_OPEN_SLIDES:
                _open.popitem(last=False)
    return slide


def forget(path: str | os.PathLike | None = None) -> None:
    """Drop shared slides (all, or one path) so the next ``open_slide`` reopens them."""
    with _open_lock:
        if path is None:
            _open.clear()
        else:
            _open.pop(Path(path).expanduser().resolve(), None)


def _open_uncached(path: Path, shown: Path) -> Slide:
    from . import dicom_reader, openslide_reader

    reasons = []
    if path.is_dir():
        if any(dicom_reader.is_dicom_file(p) for p in path.iterdir() if p.is_file()):
            return _try(dicom_reader.DicomSlide, path, shown, reasons, "wsidicom", final=True)
        raise UnsupportedSlideError(f"{shown}: a folder that is not a DICOM WSI set")
    if path.stat().st_size == 0:
        raise UnsupportedSlideError(f"{shown}: the file is empty")
    if path.suffix.lower() in VIDEO_SUFFIXES:
        from .video_reader import VideoSlide

        return _try(VideoSlide, path, shown, reasons, "pyav", final=True)
    vendor = openslide_reader.detect(path)
    ome = path.name.lower().endswith((".ome.tif", ".ome.tiff", ".ome.tf2", ".ome.tf8", ".ome.btf"))
    if vendor is not None and not ome:
        slide = _try(openslide_reader.OpenSlideSlide, path, shown, reasons, "openslide")
        if slide is not None:
            return slide
    if vendor is None and path.suffix.lower() in SCANNER_SUFFIXES:
        # A scanner's own extension that OpenSlide does not recognise: most often a cut-off copy.
        reasons.append(f"openslide: not a {path.suffix.lower()} file it recognises (truncated or damaged?)")
    if vendor == "dicom" or dicom_reader.is_dicom_file(path):
        return _try(dicom_reader.DicomSlide, path, shown, reasons, "wsidicom", final=True)
    from .vips_reader import VipsSlide

    return _try(VipsSlide, path, shown, reasons, "pyvips", final=True)


def _try(reader, path, shown, reasons, name, final=False):
    try:
        return reader(path)
    except UnsupportedSlideError:
        raise
    except Exception as exc:  # every reader has its own error types; all mean "not this reader"
        reasons.append(f"{name}: {_short(exc)}")
        if final:
            raise UnsupportedSlideError(f"{shown}: no reader can open it ({'; '.join(reasons)})") from exc
        return None


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."
