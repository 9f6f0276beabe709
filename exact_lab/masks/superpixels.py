"""Superpixels of the current view, computed in the kernel at the view's resolution
(scikit-image), and the level-0 pixels a clicked superpixel covers.

Planes: ``l0_`` level-0 pixels; ``sp_`` pixels of the superpixel label image, which covers
``l0_box`` at ``l0_box`` size / label image size level-0 pixels per pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..errors import InvalidValueError
from .tiles import MaskOp

# Parameters each method accepts, with the defaults used when not given (scikit-image's names).
METHODS: dict[str, dict] = {
    "slic": {"n_segments": 400, "compactness": 10.0, "sigma": 1.0},
    "felzenszwalb": {"scale": 100.0, "sigma": 0.8, "min_size": 50},
    "quickshift": {"kernel_size": 5, "max_dist": 10.0, "ratio": 1.0},
    "watershed": {"markers": 400, "compactness": 0.001},
}
# Above this many pixels a view is segmented at a coarser resolution (SLIC on 2 Mpx takes ~2 s here).
MAX_PIXELS = 2_000_000


def segment(rgb: np.ndarray, method: str = "slic", **params) -> np.ndarray:
    """Superpixel labels (int32, 1..N) of an H x W x 3 image."""
    from skimage import color, filters, segmentation

    if method not in METHODS:
        raise InvalidValueError(f"unknown superpixel method {method!r}; choose one of {', '.join(METHODS)}")
    unknown = set(params) - set(METHODS[method])
    if unknown:
        raise InvalidValueError(
            f"{method} takes {', '.join(METHODS[method])}; got unknown {', '.join(sorted(unknown))}")
    p = {**METHODS[method], **params}
    rgb = np.asarray(rgb)[..., :3]
    if method == "slic":
        labels = segmentation.slic(rgb, n_segments=int(p["n_segments"]), compactness=float(p["compactness"]),
                                   sigma=float(p["sigma"]), start_label=1)
    elif method == "felzenszwalb":
        labels = segmentation.felzenszwalb(rgb, scale=float(p["scale"]), sigma=float(p["sigma"]),
                                           min_size=int(p["min_size"])) + 1
    elif method == "quickshift":
        labels = segmentation.quickshift(rgb, kernel_size=float(p["kernel_size"]), max_dist=float(p["max_dist"]),
                                         ratio=float(p["ratio"]), convert2lab=True) + 1
    else:
        gradient = filters.sobel(color.rgb2gray(rgb))
        labels = segmentation.watershed(gradient, markers=int(p["markers"]), compactness=float(p["compactness"]))
    return np.asarray(labels, dtype=np.int32)


def read_view(slide, l0_box, size: tuple[int, int], frame: int = 0) -> np.ndarray:
    """RGB pixels of ``l0_box`` resampled to ``size`` (w, h), read from the coarsest slide level
    that is still at least as fine as the target."""
    x0, y0, x1, y1 = (int(round(v)) for v in l0_box)
    w, h = size
    downsample = max((x1 - x0) / w, (y1 - y0) / h, 1.0)
    level = max((i for i, ds in enumerate(slide.level_downsamples) if ds <= downsample + 1e-9), default=0)
    ds = slide.level_downsamples[level]
    lw, lh = max(1, int(np.ceil((x1 - x0) / ds))), max(1, int(np.ceil((y1 - y0) / ds)))
    region = slide.read_region((x0, y0), level, (lw, lh), frame=frame).convert("RGB")
    return np.asarray(region.resize((w, h), Image.Resampling.BILINEAR))


@dataclass
class Superpixels:
    """A label image of superpixels over ``l0_box`` (x0, y0, x1, y1)."""

    labels: np.ndarray
    l0_box: tuple[int, int, int, int]
    method: str

    @classmethod
    def of_view(cls, slide, l0_box, screen_size, method: str = "slic", frame: int = 0, **params):
        """Superpixels of the view: ``l0_box`` at the view's ``screen_size`` (w, h), or coarser
        when that is more than ``MAX_PIXELS`` (never finer than level 0)."""
        x0, y0, x1, y1 = (int(np.floor(l0_box[0])), int(np.floor(l0_box[1])),
                          int(np.ceil(l0_box[2])), int(np.ceil(l0_box[3])))
        width, height = slide.dimensions
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, width), min(y1, height)
        if x1 <= x0 or y1 <= y0:
            raise InvalidValueError(f"the view {tuple(l0_box)} does not overlap the {width}x{height} image")
        sw, sh = (max(1, int(v)) for v in screen_size)
        fit = min(1.0, (MAX_PIXELS / (sw * sh)) ** 0.5, (x1 - x0) / sw, (y1 - y0) / sh)
        size = (max(1, int(sw * fit)), max(1, int(sh * fit)))
        # keep the view's aspect: the label image covers exactly the clipped box
        size = (size[0], max(1, round(size[0] * (y1 - y0) / (x1 - x0))))
        rgb = read_view(slide, (x0, y0, x1, y1), size, frame)
        return cls(segment(rgb, method, **params), (x0, y0, x1, y1), method)

    @property
    def count(self) -> int:
        return int(self.labels.max())

    def boundaries(self) -> np.ndarray:
        """H x W bool: the pixels on a border between two superpixels (what the viewer draws)."""
        from skimage.segmentation import find_boundaries

        return find_boundaries(self.labels, mode="inner")

    def label_at(self, l0_xy) -> int:
        """The superpixel under a level-0 point (0 outside the box)."""
        x0, y0, x1, y1 = self.l0_box
        h, w = self.labels.shape
        x, y = float(l0_xy[0]), float(l0_xy[1])
        if not (x0 <= x < x1 and y0 <= y < y1):
            return 0
        return int(self.labels[min(h - 1, int((y - y0) * h / (y1 - y0))), min(w - 1, int((x - x0) * w / (x1 - x0)))])

    def l0_pixels(self, ids) -> tuple[tuple[int, int], np.ndarray]:
        """(level-0 origin, bool mask) of the level-0 pixels whose centre falls in superpixels ``ids``."""
        x0, y0, x1, y1 = self.l0_box
        h, w = self.labels.shape
        chosen = np.isin(self.labels, np.asarray(list(ids), dtype=np.int32))
        rows, cols = np.nonzero(chosen)
        if not len(rows):
            return (x0, y0), np.zeros((0, 0), bool)
        sy, sx = (y1 - y0) / h, (x1 - x0) / w
        bx0, bx1 = int(x0 + cols.min() * sx), int(np.ceil(x0 + (cols.max() + 1) * sx))
        by0, by1 = int(y0 + rows.min() * sy), int(np.ceil(y0 + (rows.max() + 1) * sy))
        bx1, by1 = min(bx1, x1), min(by1, y1)
        sp_cols = np.minimum(((np.arange(bx0, bx1) + 0.5 - x0) / sx).astype(int), w - 1)
        sp_rows = np.minimum(((np.arange(by0, by1) + 0.5 - y0) / sy).astype(int), h - 1)
        return (bx0, by0), chosen[np.ix_(sp_rows, sp_cols)]

    def fill_op(self, image_id: int, frame: int, ids, cls: int) -> MaskOp | None:
        """The paint operation that gives superpixels ``ids`` the class ``cls`` (0 erases)."""
        origin, where = self.l0_pixels(ids)
        if not where.any():
            return None
        return MaskOp(int(image_id), int(frame), origin, np.full(where.shape, int(cls), np.uint16), where)
