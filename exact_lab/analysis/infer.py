"""``proj.infer``: a model over the tiles of an image, a region or an image set; results land as
proposals (annotations with a score and ``source = "<name>:<version>"``) in one bulk write."""

from __future__ import annotations

import sys
import time
import uuid as _uuid
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import shapely

from ..errors import InvalidValueError
from ..slides import open_slide
from .build import virtual_image_ids
from .merge import NMS_IOU, merge
from .models import identity
from .outputs import KINDS
from .pipeline import READERS, default_model_workers, run_tiles
from .tiling import TilePlan, downsample_for, plan_tiles

DEFAULT_TILE = 512


@dataclass
class InferenceRun:
    """What ``infer`` did. ``proposals()`` reads the written annotations back."""

    project: object = field(repr=False)
    run_id: str
    source: str
    kind: str
    image_ids: list
    tiles_total: int
    tiles_done: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    uuids: list = field(default_factory=list, repr=False)

    @property
    def count(self) -> int:
        return len(self.uuids)

    @property
    def tiles_per_second(self) -> float:
        return self.tiles_done / self.seconds if self.seconds else 0.0

    def proposals(self) -> pd.DataFrame:
        return self.project.annotations(uuids=self.uuids) if self.uuids else self.project.annotations(uuids=[])

    def __repr__(self):
        state = "interrupted" if self.interrupted else "complete"
        return (f"<InferenceRun {self.source} {self.kind}: {self.count} proposals from {self.tiles_done}/{self.tiles_total} "
                f"tiles of {len(self.image_ids)} image(s), {self.tiles_per_second:.1f} tiles/s, {state}>")


def _images(project, image, image_set, region) -> pd.DataFrame:
    if (image is None) == (image_set is None):
        raise InvalidValueError("infer needs exactly one of image= or image_set=")
    if image is not None:
        ids = [image] if not isinstance(image, (list, tuple, np.ndarray, pd.Series)) else list(image)
        images = project.images(ids=[int(project.image(i)["image_id"]) for i in ids])
    else:
        images = project.images(image_set=image_set)
        images = images[~images["image_id"].isin(virtual_image_ids(project))]
    if region is not None and len(images) != 1:
        raise InvalidValueError("region= is a rectangle of one image; give image= a single image")
    if images.empty:
        raise InvalidValueError(f"no images to infer on in image set {image_set!r}")
    return images


def _plans(images, model, tile_size, overlap, level, mpp, region) -> list[TilePlan]:
    tile_size = int(tile_size or getattr(model, "tile_size", None) or DEFAULT_TILE)
    if mpp is None and level is None:
        mpp = getattr(model, "mpp", None)
    plans = []
    for record in images.itertuples():
        slide = open_slide(record.path)
        ds = downsample_for(slide, level, mpp)
        plans.append(plan_tiles(int(record.image_id), record.path, *slide.dimensions, tile_size=tile_size,
                                overlap=int(overlap), downsample=ds, region=region))
    return plans


def _progress(total: int, source: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="tile", desc=source, disable=not enabled, smoothing=0.1)


def infer(project, model, image=None, image_set=None, region=None, tile_size=None, overlap: int = 64, level=None, mpp=None,
          batch_size: int = 16, kind: str = "detection", name=None, version=None, client=None, *, type=None,
          classes=None, progress: bool = True, readers: int = READERS, model_workers=None,
          iou: float = NMS_IOU) -> InferenceRun:
    if kind not in KINDS:
        raise InvalidValueError(f"kind {kind!r}; expected one of {', '.join(KINDS)}")
    name, version = identity(model, name, version)
    source = f"{name}:{version or 'unversioned'}"
    default_type = type or getattr(model, "type", None) or name
    classes = classes if classes is not None else getattr(model, "classes", None)
    if classes is None and kind == "segmentation":
        classes = {1: default_type}
    model_workers = int(model_workers or default_model_workers(model))
    images = _images(project, image, image_set, region)
    plans = _plans(images, model, tile_size, overlap, level, mpp, region)
    run = InferenceRun(project, _uuid.uuid4().hex[:12], source, kind, [p.image_id for p in plans], sum(len(p) for p in plans))
    rows: dict[int, list[pd.DataFrame]] = {p.image_id: [] for p in plans}
    bar = _progress(run.tiles_total, source, progress)
    started = time.perf_counter()
    try:
        if client is None:
            for plan in plans:
                def on_batch(n, found, image_id=plan.image_id):
                    rows[image_id].append(found)
                    run.tiles_done += n
                    bar.update(n)

                run_tiles(plan, range(len(plan)), model, kind, batch_size=batch_size, readers=readers,
                          model_workers=model_workers, default_type=default_type, classes=classes, on_batch=on_batch)
        else:
            from .distributed import run_on_cluster

            run_on_cluster(client, plans, model, kind, batch_size, readers, default_type, classes, rows, run, bar)
    except KeyboardInterrupt:
        run.interrupted = True
    finally:
        run.seconds = time.perf_counter() - started
        bar.close()
    proposals = [_located(merge(pd.concat(parts, ignore_index=True), plan, kind, boxes=_all_boxes(parts), iou=iou), plan)
                 for plan in plans if (parts := rows[plan.image_id])]
    proposals = pd.concat(proposals, ignore_index=True) if proposals else pd.DataFrame()
    run.uuids = _write(project, proposals, kind, source, run.run_id) if len(proposals) else []
    if run.interrupted:
        print(f"exact-lab: inference interrupted after {run.tiles_done} of {run.tiles_total} tiles; "
              f"wrote the {run.count} proposals found so far (source {source})", file=sys.stderr)
    return run


def _all_boxes(parts) -> bool:
    geoms = np.concatenate([p["geometry"].to_numpy() for p in parts]) if parts else np.zeros(0)
    if not len(geoms):
        return True
    area = shapely.area(geoms)
    bounds = shapely.bounds(geoms)
    return bool(np.allclose(area, (bounds[:, 2] - bounds[:, 0]) * (bounds[:, 3] - bounds[:, 1]), rtol=1e-9, atol=1e-6))


def _located(found: pd.DataFrame, plan: TilePlan) -> pd.DataFrame:
    """Keep what lies in the region (tiles beyond the image edge are padded) and tag the image."""
    x0, y0, x1, y1 = plan.region
    cx, cy = (found["xmin"] + found["xmax"]) / 2, (found["ymin"] + found["ymax"]) / 2
    found = found[(cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)].copy()
    found["image_id"] = plan.image_id
    return found


def _write(project, proposals: pd.DataFrame, kind: str, source: str, run_id: str) -> list:
    existing = project.annotation_types().set_index("name")["vector_type"]
    for type_ in pd.unique(proposals["type"]):
        boxes = kind != "segmentation" and _all_boxes([proposals[proposals["type"] == type_]])
        if type_ not in existing.index:
            project.add_annotation_type(str(type_), "box" if boxes else "polygon")
        elif existing[type_] in ("box", "fixed_box") and not boxes:
            raise InvalidValueError(f"the model's {kind} results of type {type_!r} are outlines, but {type_!r} is a "
                                    f"{existing[type_]} type; pass type= (a polygon type, or a new name)")
    metas = []
    for meta, score in zip(proposals["meta"], proposals["score"].to_numpy(float)):
        meta = dict(meta) if isinstance(meta, dict) else {}
        meta["run"] = run_id
        if "uncertainty" not in meta and np.isfinite(score) and 0 <= score <= 1:
            meta["uncertainty"] = float(1 - score)
        metas.append(meta)
    frame = pd.DataFrame({
        "image_id": proposals["image_id"].to_numpy(np.int64), "type": proposals["type"].to_numpy(object),
        "geometry": proposals["geometry"].to_numpy(), "score": proposals["score"].to_numpy(float),
        "source": source, "meta": metas,
    })
    frame["score"] = frame["score"].where(np.isfinite(frame["score"]), None)
    return list(project.add_annotations(frame))
