"""``proj.features``: one feature vector per annotation, from its patch, by the classic features
or by any model that maps a batch of patches (N x H x W x 3 uint8) to an N x D array.

Cached in the project's data folder (``features/<model>-<version>-<patch>/``, Parquet), one row per
annotation with a fingerprint of what the vector depends on. What invalidates an entry: a change
of the annotation's geometry or image (the image's checksum), or another model name, model
version, patch size or context (another folder). A model without a version is never cached:
nothing would tell its old results from new ones.
"""

from __future__ import annotations

import hashlib
import uuid as _uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely

from ..errors import InvalidValueError
from .build import as_annotations
from .classic import ClassicFeatures
from .models import call, identity
from .reading import read_all_patches
from .windows import plan_windows

DEFAULT_PATCH = 64


def fingerprints(annotations: pd.DataFrame, checksums: dict) -> np.ndarray:
    wkb = shapely.to_wkb(annotations["geometry"].to_numpy())
    return np.array([hashlib.sha1(str(checksums.get(int(i), "")).encode() + w).hexdigest()[:20]
                     for i, w in zip(annotations["image_id"], wkb)], dtype=object)


class FeatureCache:
    def __init__(self, folder: Path):
        self.folder = folder

    def read(self, uuids: np.ndarray, prints: np.ndarray) -> dict:
        """uuid -> vector for the entries whose fingerprint still matches."""
        parts = sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []
        if not parts:
            return {}
        table = pa.concat_tables([pq.read_table(p) for p in parts]).to_pandas()
        wanted = pd.DataFrame({"uuid": uuids, "fingerprint": prints}).drop_duplicates()
        # match on both: an entry written before the annotation moved has another fingerprint
        hits = table.merge(wanted, on=["uuid", "fingerprint"]).drop_duplicates("uuid")
        return dict(zip(hits["uuid"], hits["vector"]))

    def write(self, uuids, prints, vectors: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        table = pa.table({"uuid": pa.array(list(uuids), pa.string()), "fingerprint": pa.array(list(prints), pa.string()),
                          "vector": pa.array(list(vectors.astype(np.float32)), pa.list_(pa.float32()))})
        tmp = self.folder / f".part-{_uuid.uuid4().hex}.tmp"
        pq.write_table(table, tmp)
        tmp.replace(self.folder / f"part-{_uuid.uuid4().hex}.parquet")


def features(project, annotations, model=None, patch_size=DEFAULT_PATCH, batch_size: int = 64, *, context: float = 0.15,
             name: str | None = None, version: str | None = None, cache: bool = True, workers: int = 4) -> np.ndarray:
    frame = as_annotations(project, annotations)
    model = ClassicFeatures() if model is None else model
    model_name, model_version = identity(model, name, version)
    windows = plan_windows(frame, None, context, out_size=patch_size)
    images = project.images(ids=sorted(int(i) for i in pd.unique(frame["image_id"])))
    prints = fingerprints(frame, dict(zip(images["image_id"].astype(int), images["checksum"])))
    store = None
    if cache and model_version is not None:
        from .virtual import virtual_folder

        key = "".join(c if c.isalnum() or c in "-_." else "_" for c in
                      f"{model_name}-{model_version}-{windows['out_w'].iloc[0] if len(windows) else 0}-{context}")
        store = FeatureCache(virtual_folder(project).parent / "features" / key)
    known = store.read(frame["uuid"].to_numpy(), prints) if store is not None else {}
    todo = np.array([u not in known for u in frame["uuid"]], dtype=bool)
    computed = _compute(model, images, windows[todo].reset_index(drop=True), batch_size, workers)
    if store is not None and len(computed):
        store.write(frame["uuid"].to_numpy()[todo], prints[todo], computed)
    if not len(frame):
        return np.zeros((0, 0), dtype=np.float32)
    width = computed.shape[1] if len(computed) else len(next(iter(known.values())))
    out = np.empty((len(frame), width), dtype=np.float32)
    if todo.any():
        out[todo] = computed
    for i in np.nonzero(~todo)[0]:
        out[i] = known[frame["uuid"].iloc[i]]
    return out


def _compute(model, images: pd.DataFrame, windows: pd.DataFrame, batch_size: int, workers: int) -> np.ndarray:
    if windows.empty:
        return np.zeros((0, 0), dtype=np.float32)
    if batch_size < 1:
        raise InvalidValueError(f"batch_size must be at least 1, got {batch_size!r}")
    h, w = int(windows["out_h"].iloc[0]), int(windows["out_w"].iloc[0])
    batch = np.empty((batch_size, h, w, 3), dtype=np.uint8)
    rows: list[int] = []
    results: dict[int, np.ndarray] = {}

    def run() -> None:
        vectors = np.asarray(call(model, batch[:len(rows)], ("transform", "predict")))
        if vectors.ndim != 2 or vectors.shape[0] != len(rows):
            raise InvalidValueError(f"the feature model returned shape {vectors.shape} for a batch of {len(rows)}; "
                                    "expected N x D")
        for i, v in zip(rows, vectors):
            results[i] = v
        rows.clear()

    def consume(i: int, patch: np.ndarray) -> None:
        batch[len(rows)] = patch
        rows.append(i)
        if len(rows) == batch_size:
            run()

    read_all_patches(images, windows, consume, workers=workers)
    if rows:
        run()
    return np.stack([results[i] for i in range(len(windows))]).astype(np.float32)
