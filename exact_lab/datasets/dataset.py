"""A map-style patch dataset: ``len(ds)``, ``ds[i] -> (H x W x 3 uint8 patch, target)``.

Everything a patch needs (paths, scales, the annotations as arrays) is computed when the dataset
is built, so ``__getitem__`` touches only the slide. Worker processes (PyTorch's ``DataLoader``
forks by default):
- OpenSlide slides are reopened in each worker: a file descriptor inherited through a fork shares
  its offset with the parent's, so two processes reading it would read each other's places;
- pyvips cannot start anything new in a forked child (its thread pool stays behind: measured here,
  opening an image in the child hangs for ever), while reading from an image opened before the
  fork works; so just before a fork every live dataset opens its slides in the parent (an
  ``os.register_at_fork`` hook), and a worker reads those.
A spawned worker (``multiprocessing_context="spawn"``) unpickles the dataset without slides and
opens its own. No torch import: the dataset is a plain object with ``__len__`` and ``__getitem__``.
"""

from __future__ import annotations

import math
import os
import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
from PIL import Image

from .. import slides
from ..errors import InvalidValueError, PatchLoaderError
from . import targets
from .tilecache import TileCache, native_tile_size, to_rgb  # noqa: F401 (to_rgb: this module's public name before)

KINDS = ("classification", "detection", "segmentation")
# A level whose downsample is within this fraction of the wanted scale is read without resizing.
SAME_SCALE = 0.01


@dataclass
class ImageRecord:
    image_id: int
    name: str
    path: str
    checksum: str | None
    width: int
    height: int
    mpp: float | None
    scale: float  # level-0 pixels per patch pixel


class PatchDataset:
    """Patches of a pinned snapshot; build one with ``proj.dataset(...)``."""

    def __init__(self, index: pd.DataFrame, images: dict[int, ImageRecord], shapes: dict[int, targets.ImageShapes],
                 classes: list[str], kind: str, patch_size: int, parameters: dict, snapshot: int, version,
                 pixels: dict[int, targets.PixelLabels] | None = None):
        if kind not in KINDS:
            raise InvalidValueError(f"kind {kind!r}; expected one of {', '.join(KINDS)}")
        self.index = index.reset_index(drop=True)
        self.images = images
        self.classes = list(classes)
        self.kind = kind
        self.patch_size = int(patch_size)
        self.parameters = dict(parameters)
        self.snapshot = int(snapshot)
        self.version = version
        self._shapes = shapes
        self._pixels = pixels or {}
        self._columns = {c: self.index[c].to_numpy() for c in ("image_id", "frame", "l0_x", "l0_y", "label")}
        self._opened: dict[int, object] = {}
        self._tiles = TileCache()
        self._pid = os.getpid()
        _LIVE.add(self)

    # -- the map-style protocol ---------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i):
        n = len(self)
        if isinstance(i, (np.integer,)):
            i = int(i)
        if not isinstance(i, int):
            raise TypeError(f"a dataset is indexed by an int, not {type(i).__name__}")
        if not -n <= i < n:
            raise IndexError(f"patch {i} outside 0..{n - 1}")
        i %= n
        return self.patch(i), self.target(i)

    def __getitems__(self, indices) -> list:
        """``[ds[i] for i in indices]``; torch's DataLoader (>= 2.1) fetches a batch with it."""
        patches = np.empty((len(indices), self.patch_size, self.patch_size, 3), np.uint8)
        targets = self.read_into(indices, patches)
        return list(zip(patches, targets))

    def read_into(self, indices, out: np.ndarray, rows=None) -> list:
        """Write the patches of ``indices`` into ``out`` (at ``out[rows[k]]``, default ``out[k]``;
        N x H x W x 3 uint8, e.g. a shared-memory slot) and return their targets; a failure
        names the patch and its image."""
        result = []
        for k, i in enumerate(indices):
            i = int(i)
            try:
                out[k if rows is None else int(rows[k])] = self.patch(i)
                result.append(self.target(i))
            except Exception as exc:
                record = self.images.get(int(self._columns["image_id"][i]))
                where = f"image {record.image_id} ({record.path})" if record else "an unknown image"
                raise PatchLoaderError(f"patch {i} of {where}: {type(exc).__name__}: {exc}") from exc
        return result

    def batches(self, batch_size: int = 16, workers: int = 0, shuffle: bool = False, seed=None,
                drop_last: bool = False, prefetch: int = 2, split: str = "tiles"):
        """A ``PatchLoader``: ``for patches, targets in ds.batches(16, workers=2): ...`` gives
        N x H x W x 3 uint8 arrays read by forked workers into shared memory, in the order
        ``loader.order(epoch)`` names (0..n-1 without ``shuffle``). See ``datasets/loader.py``."""
        from .loader import PatchLoader

        return PatchLoader(self, batch_size, workers, shuffle, seed, drop_last, prefetch, split)

    def patch(self, i: int) -> np.ndarray:
        c = self._columns
        image_id = int(c["image_id"][i])
        record = self.images[image_id]
        return read_patch(self._slide(record), float(c["l0_x"][i]), float(c["l0_y"][i]), record.scale,
                          self.patch_size, int(c["frame"][i]), self._tiles)

    def patch_tiles(self, i: int) -> list[tuple]:
        """The stored tiles patch ``i`` reads, as ``(image_id, frame, level, col, row)`` on the
        level's own grid (what a loader needs to send patches that share tiles to one worker)."""
        c = self._columns
        record = self.images[int(c["image_id"][i])]
        slide = self._slide(record)
        l0_x, l0_y = float(c["l0_x"][i]), float(c["l0_y"][i])
        level, ds, _, read = patch_window(slide, record.scale, self.patch_size)
        tw, th = native_tile_size(slide, level)
        lx, ly = int(round(l0_x)) / ds, int(round(l0_y)) / ds
        frame = int(c["frame"][i])
        return [(record.image_id, frame, level, col, row)
                for row in range(math.floor(ly / th), math.floor((ly + read - 1) / th) + 1)
                for col in range(math.floor(lx / tw), math.floor((lx + read - 1) / tw) + 1)]

    def expect_tiles(self, tiles) -> None:
        """Tell this process's tile cache that these ``patch_tiles`` keys will be read more than
        once here, so each is cached on its first demand."""
        paths = {image_id: str(self._slide(record).path) for image_id, record in self.images.items()}
        self._tiles.expect((paths[image_id], frame, level, col, row) for image_id, frame, level, col, row in tiles)

    def target(self, i: int):
        c = self._columns
        if self.kind == "classification":
            return int(c["label"][i])
        image_id = int(c["image_id"][i])
        shapes = self._shapes.get(image_id)
        args = (int(c["frame"][i]), float(c["l0_x"][i]), float(c["l0_y"][i]), self.images[image_id].scale, self.patch_size)
        if self.kind == "detection":
            if shapes is None:
                return {"boxes": np.zeros((0, 4), np.float32), "labels": np.zeros(0, np.int64)}
            return targets.boxes(shapes, *args)
        return targets.mask(shapes, *args, len(self.classes), self._pixels.get(image_id))

    # -- worker processes ---------------------------------------------------------------------
    def _slide(self, record: ImageRecord):
        pid = os.getpid()
        if pid != self._pid:  # a worker: reopen what OpenSlide reads, keep what pyvips opened before the fork
            self._pid = pid
            inherited = self._opened
            self._opened = {}
            for image_id, slide in inherited.items():
                if slide.reader == "openslide":
                    slides.forget(slide.path)
                else:
                    self._opened[image_id] = slide
        slide = self._opened.get(record.image_id)
        if slide is None:
            slide = self._opened[record.image_id] = slides.open_slide(record.path)
        return slide

    def clear_tiles(self) -> None:
        """Empty this process's tile cache (a benchmark's cold start; memory back)."""
        self._tiles.clear()

    def open_slides(self) -> None:
        """Open every image's slide in this process (done before each fork automatically)."""
        for record in self.images.values():
            self._slide(record)

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_opened"] = {}
        state["_tiles"] = TileCache(self._tiles.max_bytes)
        state["_pid"] = None
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        _LIVE.add(self)

    # -- records ------------------------------------------------------------------------------
    @property
    def manifest(self) -> dict:
        """Version, snapshot, images with checksums, parameters and the index's hash."""
        from .manifest import manifest_of

        return manifest_of(self)

    def save_manifest(self, path) -> str:
        from .manifest import save

        return save(self.manifest, path)

    def export(self, folder, format: str = "imagefolder", **options):
        """Write every patch and its target to ``folder`` (``imagefolder``, ``yolo``, ``coco`` or
        ``parquet``) with ``manifest.json`` beside them; returns the folder's path."""
        from .export import export

        return export(self, folder, format, **options)

    def __repr__(self):
        return (f"<PatchDataset {self.kind} {len(self)} patches of {self.patch_size}px from {len(self.images)} "
                f"image(s) at snapshot {self.snapshot}, classes={self.classes}>")


_LIVE: weakref.WeakSet = weakref.WeakSet()


def _open_before_fork() -> None:
    for ds in list(_LIVE):
        if ds._pid == os.getpid():
            try:
                ds.open_slides()
            except Exception:  # a missing file fails later, in the worker, with its own error
                pass


os.register_at_fork(before=_open_before_fork)


def patch_window(slide, scale: float, size: int) -> tuple[int, float, bool, int]:
    """Where a patch is read: the coarsest level that still has the detail, its downsample,
    whether it has the patch's scale (no resizing), and the pixels read per side on it."""
    level = 0
    for index, downsample in enumerate(slide.level_downsamples):
        if downsample <= scale * (1 + SAME_SCALE):
            level = index
    ds = slide.level_downsamples[level]
    exact = abs(ds / scale - 1) <= SAME_SCALE
    read = size if exact else max(1, math.ceil(size * scale / ds))
    return level, ds, exact, read


def read_patch(slide, l0_x: float, l0_y: float, scale: float, size: int, frame: int = 0,
               cache: TileCache | None = None) -> np.ndarray:
    """size x size RGB pixels covering level-0 ``(l0_x, l0_y)`` .. ``+ size * scale``, from the
    coarsest level that still has the detail; outside the image is white. With ``cache``, level-0
    pixels come from its tiles (each read once per process), else from one read_region."""
    level, ds, exact, read = patch_window(slide, scale, size)
    extent = size if exact else size * scale / ds  # in pixels of the level read
    l0_xy = (int(round(l0_x)), int(round(l0_y)))
    if cache is not None and ds == 1:
        pixels = cache.region(slide, level, *l0_xy, read, read, frame)
    else:  # OpenSlide places a coarser level at the fractional l0 / downsample, resampling by a
        # fraction of a pixel (cairo): tiles on the level's grid would give other bytes
        pixels = to_rgb(slide.read_region(l0_xy, level, (read, read), frame))
    if exact:
        return pixels
    image = Image.fromarray(pixels).resize((size, size), Image.Resampling.BILINEAR, box=(0, 0, extent, extent))
    return np.asarray(image)
