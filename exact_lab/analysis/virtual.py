"""Virtual slides: images the analysis room makes (maps of patches), written by pyvips as pyramidal
TIFF into the project's data folder and registered as images of their own kind.

What the store has no table for lives beside the TIFF: ``<name>.mapping.parquet`` (each patch's
rectangle and its source) and ``<name>.state.parquet`` (what has been synced back). The image's
``meta`` says what it is: ``{"kind": "annotation_map" | "density_map" | "cluster_map", "mapping": ...}``.
"""

from __future__ import annotations

import uuid as _uuid
from pathlib import Path

import numpy as np
import pyvips

from ..errors import InvalidValueError

VIRTUAL_SET = "virtual slides"
KINDS = ("annotation_map", "density_map", "cluster_map")
FOLDER = "virtual"
TILE = 256
# Lossless by default: a map's pixels equal the source's (the sources were compressed already;
# a second JPEG pass would blur what reviewers judge). "jpeg" is smaller and faster to write.
DEFAULT_COMPRESSION = "deflate"


def virtual_folder(project) -> Path:
    """The project's data folder for virtual slides (the shared data path in team mode)."""
    data_path = str(project.info()["data_path"])
    if "://" in data_path:
        raise InvalidValueError(
            f"virtual slides are written with pyvips to a file system; the project's data path {data_path!r} "
            "is an object store URL (mount it, or give open_project a shared folder as data=)")
    folder = Path(data_path) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def new_name(kind: str) -> str:
    return f"{kind.replace('_', '-')}-{_uuid.uuid4().hex[:12]}"


def write_pyramid(canvas: np.ndarray, path: Path, *, mpp: float | None = None,
                  compression: str = DEFAULT_COMPRESSION, quality: int = 90) -> Path:
    """Write an H x W x 3 uint8 array as a tiled pyramidal TIFF."""
    if canvas.ndim != 3 or canvas.shape[2] != 3 or canvas.dtype != np.uint8:
        raise InvalidValueError(f"a virtual slide is H x W x 3 uint8, got {canvas.shape} {canvas.dtype}")
    height, width = canvas.shape[:2]
    image = pyvips.Image.new_from_memory(np.ascontiguousarray(canvas).data, width, height, 3, "uchar")
    image = image.copy(interpretation="srgb")
    options = dict(tile=True, tile_width=TILE, tile_height=TILE, pyramid=True, compression=compression, bigtiff=True)
    if compression == "jpeg":
        options["Q"] = quality
    elif compression == "deflate":
        options.update(predictor="horizontal", level=1)  # level 1: most of the size gain, fast
    if mpp:
        options.update(xres=1000.0 / mpp, yres=1000.0 / mpp, resunit="cm")  # pixels per mm (libvips' unit)
    path = Path(path)
    tmp = path.with_suffix(".partial.tiff")
    image.tiffsave(str(tmp), **options)
    tmp.replace(path)
    return path


def register(project, path: Path, kind: str, meta: dict) -> int:
    """Add the virtual slide to the project as an image of ``kind``; returns its image id."""
    if kind not in KINDS:
        raise InvalidValueError(f"virtual slide kind {kind!r}; expected one of {', '.join(KINDS)}")
    rows = project.add_images([path], image_set=VIRTUAL_SET, meta={"kind": kind, **meta})
    return int(rows["image_id"].iloc[0])
