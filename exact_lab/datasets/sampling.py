"""Where the patches of a dataset lie: the index, one row per patch, in level-0 pixels.

Columns: image_id, frame, l0_x, l0_y (top-left corner), label (class index, -1 for none) and
uuid (the annotation a patch is centred on, else ""). A patch spans ``patch_size * scale``
level-0 pixels, ``scale`` being the image's level-0 pixels per patch pixel.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from ..errors import InvalidValueError

SAMPLINGS = ("annotations", "grid", "random", "balanced")
INDEX_COLUMNS = ["image_id", "frame", "l0_x", "l0_y", "label", "uuid"]


def empty_index() -> pd.DataFrame:
    return pd.DataFrame({"image_id": pd.Series(dtype="int64"), "frame": pd.Series(dtype="int64"),
                         "l0_x": pd.Series(dtype="float64"), "l0_y": pd.Series(dtype="float64"),
                         "label": pd.Series(dtype="int64"), "uuid": pd.Series(dtype="object")})


def centred(annotations: pd.DataFrame, extents: dict[int, float]) -> pd.DataFrame:
    """One patch per annotation, centred on its bounding box."""
    if annotations.empty:
        return empty_index()
    extent = annotations["image_id"].map(extents).to_numpy(dtype=float)
    cx = (annotations["xmin"].to_numpy() + annotations["xmax"].to_numpy()) / 2
    cy = (annotations["ymin"].to_numpy() + annotations["ymax"].to_numpy()) / 2
    return pd.DataFrame({
        "image_id": annotations["image_id"].to_numpy(dtype=np.int64),
        "frame": annotations["frame"].fillna(0).to_numpy(dtype=np.int64),
        "l0_x": np.round(cx - extent / 2), "l0_y": np.round(cy - extent / 2),
        "label": annotations["label"].to_numpy(dtype=np.int64),
        "uuid": annotations["uuid"].astype(str).to_numpy(),
    })


def grid(images: pd.DataFrame, extents: dict[int, float], stride: float | None = None) -> pd.DataFrame:
    """Patches tiling each image from its top-left corner (the last row and column may run past
    the edge; what lies outside is white)."""
    parts = []
    for row in images.itertuples(index=False):
        extent = extents[row.image_id]
        step = extent if stride is None else stride * extent
        xs = np.arange(0, row.width, step)
        ys = np.arange(0, row.height, step)
        gx, gy = np.meshgrid(xs, ys)
        parts.append(_plain(row.image_id, gx.ravel(), gy.ravel()))
    return _concat(parts)


def random(images: pd.DataFrame, extents: dict[int, float], per_image: int, seed: int) -> pd.DataFrame:
    """``per_image`` patches wholly inside each image, at positions drawn from ``seed`` and the
    image's id (so adding an image leaves the others' patches where they were)."""
    parts = []
    for row in images.itertuples(index=False):
        extent = extents[row.image_id]
        rng = np.random.default_rng([int(seed), int(row.image_id)])
        xs = np.floor(rng.uniform(0, max(row.width - extent, 0) + 1, per_image))
        ys = np.floor(rng.uniform(0, max(row.height - extent, 0) + 1, per_image))
        parts.append(_plain(row.image_id, xs, ys))
    return _concat(parts)


def balanced(index: pd.DataFrame, per_class: int | None, seed: int) -> pd.DataFrame:
    """The same number of annotation patches for every class: ``per_class`` (default the largest
    class's count), drawn without replacement where a class has enough and with it where not."""
    if index.empty:
        return index
    counts = index.groupby("label").size()
    want = int(per_class or counts.max())
    rng = np.random.default_rng(seed)
    parts = []
    for label in sorted(counts.index):
        rows = np.nonzero(index["label"].to_numpy() == label)[0]
        chosen = rng.choice(rows, size=want, replace=len(rows) < want)
        parts.append(index.iloc[np.sort(chosen)])
    return pd.concat(parts, ignore_index=True)


def index_hash(index: pd.DataFrame) -> str:
    """sha256 over the index's values in order: two indexes with equal hashes read equal patches."""
    digest = hashlib.sha256()
    for column in INDEX_COLUMNS:
        values = index[column].to_numpy()
        if values.dtype == object:
            digest.update("\n".join(map(str, values)).encode())
        else:
            digest.update(np.ascontiguousarray(values.astype("<f8" if values.dtype.kind == "f" else "<i8")).tobytes())
    return digest.hexdigest()


def check_sampling(sampling: str) -> None:
    if sampling not in SAMPLINGS:
        raise InvalidValueError(f"sampling {sampling!r}; expected one of {', '.join(SAMPLINGS)}")


def _plain(image_id: int, xs, ys) -> pd.DataFrame:
    n = len(xs)
    return pd.DataFrame({"image_id": np.full(n, image_id, dtype=np.int64), "frame": np.zeros(n, dtype=np.int64),
                         "l0_x": np.asarray(xs, dtype=float), "l0_y": np.asarray(ys, dtype=float),
                         "label": np.full(n, -1, dtype=np.int64), "uuid": np.full(n, "", dtype=object)})


def _concat(parts) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True) if parts else empty_index()
