"""What a patch is labelled with: boxes in patch pixels, or a class-index mask.

A patch's pixel (row, col) covers level-0 ``[x0 + col * scale, x0 + (col + 1) * scale)`` (and
likewise in y). A mask pixel takes the painted pixel label (vector type ``mask``) under its
centre, and where an area annotation (polygon, box, ellipse) contains the centre, the class of the
smallest such annotation instead: a shape is an object drawn on purpose over the painted tissue,
so it wins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

AREA_TYPES = ("Polygon", "MultiPolygon")


@dataclass
class ImageShapes:
    """One image's annotations as arrays (picklable, so worker processes get them ready-made)."""

    frames: np.ndarray   # int64 N
    bboxes: np.ndarray   # float64 N x 4, level-0 xmin ymin xmax ymax
    labels: np.ndarray   # int64 N, class index
    geometries: np.ndarray  # shapely objects

    @classmethod
    def from_frame(cls, frame) -> ImageShapes:
        order = np.argsort(-shapely.area(frame["geometry"].to_numpy()), kind="stable")  # large first
        frame = frame.iloc[order]
        return cls(frame["frame"].fillna(0).to_numpy(dtype=np.int64),
                   frame[["xmin", "ymin", "xmax", "ymax"]].to_numpy(dtype=np.float64),
                   frame["label"].to_numpy(dtype=np.int64), frame["geometry"].to_numpy())

    def touching(self, frame: int, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
        b = self.bboxes
        return np.nonzero((self.frames == frame) & (b[:, 2] >= x0) & (b[:, 0] <= x1)
                          & (b[:, 3] >= y0) & (b[:, 1] <= y1))[0]


def boxes(shapes: ImageShapes, frame: int, l0_x: float, l0_y: float, scale: float, size: int) -> dict:
    """The annotations' bounding boxes in patch pixels, clipped to the patch; boxes that keep no
    area inside it are left out."""
    extent = size * scale
    rows = shapes.touching(frame, l0_x, l0_y, l0_x + extent, l0_y + extent)
    local = (shapes.bboxes[rows] - [l0_x, l0_y, l0_x, l0_y]) / scale
    local = np.clip(local, 0, size)
    keep = (local[:, 2] > local[:, 0]) & (local[:, 3] > local[:, 1])
    return {"boxes": local[keep].astype(np.float32), "labels": shapes.labels[rows][keep].astype(np.int64)}


@dataclass
class PixelLabels:
    """One image's painted labels for the frames the patches need, read at the dataset's
    snapshot and level (``MaskTiles`` of the masks room), and the lookup from a mask type's class
    index (its type_id) to the dataset's class k + 1 (0 for a type that is not a class)."""

    tiles: dict  # frame -> MaskTiles
    lookup: np.ndarray  # type_id -> k + 1

    def patch(self, frame: int, l0_x: float, l0_y: float, scale: float, size: int, dtype) -> np.ndarray | None:
        """size x size classes of the painted pixels under the patch pixels' centres (None when
        the frame has nothing painted)."""
        tiles = self.tiles.get(frame)
        if not tiles:
            return None
        down = float(1 << tiles.level)
        centres = np.arange(size) + 0.5
        lk_x = np.floor((l0_x + centres * scale) / down).astype(np.int64)
        lk_y = np.floor((l0_y + centres * scale) / down).astype(np.int64)
        region = tiles.region((lk_x[0], lk_y[0], lk_x[-1] + 1, lk_y[-1] + 1))
        values = region[np.ix_(lk_y - lk_y[0], lk_x - lk_x[0])]
        return self.lookup[np.minimum(values, len(self.lookup) - 1)].astype(dtype, copy=False)


def mask_dtype(class_count: int):
    return np.uint8 if class_count < 255 else np.int32


def mask(shapes: ImageShapes | None, frame: int, l0_x: float, l0_y: float, scale: float, size: int,
         class_count: int, pixels: PixelLabels | None = None) -> np.ndarray:
    """size x size class-index mask: 0 background, class k as k + 1; painted labels first, the
    area annotations over them."""
    dtype = mask_dtype(class_count)
    painted = None if pixels is None else pixels.patch(frame, l0_x, l0_y, scale, size, dtype)
    out = painted if painted is not None else np.zeros((size, size), dtype=dtype)
    if shapes is None:
        return out
    extent = size * scale
    for row in shapes.touching(frame, l0_x, l0_y, l0_x + extent, l0_y + extent):
        geometry = shapes.geometries[row]
        if geometry is None or geometry.geom_type not in AREA_TYPES:
            continue
        bx0, by0, bx1, by1 = shapes.bboxes[row]
        # only the pixels under the shape's bounding box are tested
        c0 = max(0, int(np.floor((bx0 - l0_x) / scale - 0.5)))
        c1 = min(size, int(np.ceil((bx1 - l0_x) / scale + 0.5)))
        r0 = max(0, int(np.floor((by0 - l0_y) / scale - 0.5)))
        r1 = min(size, int(np.ceil((by1 - l0_y) / scale + 0.5)))
        if c1 <= c0 or r1 <= r0:
            continue
        cols, rows = np.meshgrid(np.arange(c0, c1), np.arange(r0, r1))
        inside = shapely.contains_xy(geometry, l0_x + (cols + 0.5) * scale, l0_y + (rows + 0.5) * scale)
        out[r0:r1, c0:c1][inside] = shapes.labels[row] + 1
    return out


def centre_labels(shapes: ImageShapes | None, frames, cx, cy) -> np.ndarray:
    """Class of the smallest area annotation containing each point, else -1."""
    labels = np.full(len(cx), -1, dtype=np.int64)
    if shapes is None:
        return labels
    for row in range(len(shapes.labels)):  # large first, so smaller ones win
        geometry = shapes.geometries[row]
        if geometry is None or geometry.geom_type not in AREA_TYPES:
            continue
        inside = (frames == shapes.frames[row]) & shapely.contains_xy(geometry, cx, cy)
        labels[inside] = shapes.labels[row]
    return labels
