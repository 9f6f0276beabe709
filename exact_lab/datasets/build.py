"""Building a ``PatchDataset`` from the project at one snapshot: images, annotations, classes,
the index of patches."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InvalidValueError
from . import sampling as sampling_
from . import targets
from .dataset import KINDS, ImageRecord, PatchDataset


def pinned_snapshot(project, version) -> int:
    """The snapshot id a version name (or a snapshot id, or None for now) stands for."""
    if version is None:
        return int(project.info()["snapshot"])
    if isinstance(version, (int, np.integer)) and not isinstance(version, bool):
        return int(version)
    versions = project.versions()
    rows = versions[versions["name"] == version]
    if rows.empty:
        project.annotations(version=version)  # raises the store's UnknownVersionError naming the known ones
    return int(rows["snapshot_id"].iloc[0])


def build_dataset(project, image_set=None, version=None, kind: str = "classification", patch_size: int = 256,
                  mpp: float | None = None, level: int | None = None, sampling: str = "annotations", types=None,
                  min_verifications: int | None = None, seed: int = 0, *, images=None, per_image: int = 16,
                  per_class: int | None = None, stride: float | None = None) -> PatchDataset:
    if kind not in KINDS:
        raise InvalidValueError(f"kind {kind!r}; expected one of {', '.join(KINDS)}")
    sampling_.check_sampling(sampling)
    if not isinstance(patch_size, (int, np.integer)) or patch_size <= 0:
        raise InvalidValueError(f"patch_size must be a positive int, got {patch_size!r}")
    if mpp is not None and level is not None:
        raise InvalidValueError("give mpp= or level=, not both")
    if sampling == "random" and per_image <= 0:
        raise InvalidValueError(f"per_image must be > 0, got {per_image!r}")
    snapshot = pinned_snapshot(project, version)
    image_rows = select_images(project, image_set, images, snapshot)
    records = {int(r.image_id): image_record(r, mpp, level) for r in image_rows.itertuples(index=False)}
    painted = painted_types(project, records, snapshot) if kind == "segmentation" and types is None else set()
    classes, annotations = labelled_annotations(project, records, types, snapshot, min_verifications, painted)
    shapes = {int(image_id): targets.ImageShapes.from_frame(group)
              for image_id, group in annotations.groupby("image_id", sort=True)}
    extents = {image_id: patch_size * r.scale for image_id, r in records.items()}
    if sampling in ("annotations", "balanced"):
        index = sampling_.centred(annotations.sort_values(["image_id", "ymin", "xmin", "uuid"], kind="stable"), extents)
        if sampling == "balanced":
            index = sampling_.balanced(index, per_class, seed)
    else:
        if sampling == "grid":
            index = sampling_.grid(image_rows, extents, stride)
        else:
            index = sampling_.random(image_rows, extents, per_image, seed)
        index = label_centres(index, shapes, extents)
    parameters = dict(image_set=image_set, images=None if images is None else sorted(records), kind=kind,
                      patch_size=int(patch_size), mpp=mpp, level=level, sampling=sampling,
                      types=None if types is None else list(classes), min_verifications=min_verifications,
                      seed=int(seed), per_image=int(per_image), per_class=per_class, stride=stride)
    pixels = pixel_labels(project, records, index, classes, snapshot) if kind == "segmentation" else None
    return PatchDataset(index, records, shapes, classes, kind, patch_size, parameters, snapshot, version, pixels)


def select_images(project, image_set, images, snapshot) -> pd.DataFrame:
    rows = project.images(image_set=image_set, version=snapshot)
    if images is not None:
        wanted = images["image_id"].tolist() if isinstance(images, pd.DataFrame) else list(np.atleast_1d(images))
        ids = [int(project.image(i)["image_id"]) for i in wanted]
        rows = rows[rows["image_id"].isin(ids)]
    rows = rows[~rows["placeholder"].fillna(False).astype(bool)]
    missing = rows[rows["path"].isna()]
    if len(missing):
        raise InvalidValueError(f"image {missing['image_id'].iloc[0]} ({missing['name'].iloc[0]!r}) has no file to read")
    if rows.empty:
        raise InvalidValueError(f"no images to make a dataset of (image_set={image_set!r}, images={images!r})")
    return rows.reset_index(drop=True)


def image_record(row, mpp, level) -> ImageRecord:
    scale = 1.0
    if mpp is not None:
        if row.mpp is None or not np.isfinite(row.mpp):
            raise InvalidValueError(f"image {row.image_id} ({row.name!r}) has no microns per pixel; use level= instead of mpp=")
        scale = float(mpp) / float(row.mpp)
    elif level is not None:
        from ..slides import open_slide

        slide = open_slide(row.path)
        if not 0 <= level < slide.level_count:
            raise InvalidValueError(f"image {row.image_id} ({row.name!r}) has levels 0..{slide.level_count - 1}, not {level}")
        scale = float(slide.level_downsamples[level])
    return ImageRecord(int(row.image_id), row.name, row.path, row.checksum, int(row.width), int(row.height),
                       None if row.mpp is None or not np.isfinite(row.mpp) else float(row.mpp), scale)


def labelled_annotations(project, records, types, snapshot, min_verifications, painted=frozenset()):
    """(class names, the annotations of those classes with a ``label`` column). ``painted``: the
    mask types with pixels in these images, classes too when ``types`` is None."""
    frame = project.annotations(image=list(records), types=types, version=snapshot)
    frame = frame[frame["vector_type"] != "global"]
    if min_verifications:
        verdicts = project.verifications(version=snapshot)
        accepted = verdicts[verdicts["verified"]].groupby("uuid").size()
        keep = accepted[accepted >= int(min_verifications)].index
        frame = frame[frame["uuid"].isin(keep)]
    order = project.annotation_types()
    if types is None:
        present = set(frame["type"]) | set(painted)
        classes = [name for name in order["name"] if name in present]
    else:
        names = [types] if isinstance(types, (str, int)) else list(types)
        by_id = dict(zip(order["type_id"], order["name"]))
        classes = [by_id.get(t, t) if not isinstance(t, str) else t for t in names]
    label = {name: k for k, name in enumerate(classes)}
    frame = frame.assign(label=frame["type"].map(label).astype("int64"))
    return classes, frame.reset_index(drop=True)


def label_centres(index: pd.DataFrame, shapes, extents) -> pd.DataFrame:
    if index.empty:
        return index
    labels = index["label"].to_numpy().copy()
    for image_id, rows in index.groupby("image_id").indices.items():
        half = extents[int(image_id)] / 2
        cx = index["l0_x"].to_numpy()[rows] + half
        cy = index["l0_y"].to_numpy()[rows] + half
        labels[rows] = targets.centre_labels(shapes.get(int(image_id)), index["frame"].to_numpy()[rows], cx, cy)
    return index.assign(label=labels)


def painted_types(project, records, snapshot) -> set[str]:
    """Names of the mask types with painted pixels in these images at the snapshot."""
    if project.mask_classes().empty:
        return set()
    stats = project.mask_stats(version=snapshot)
    return set(stats.loc[stats["image_id"].isin(list(records)) & (stats["pixels"] > 0), "type"].dropna())


def pixel_labels(project, records, index: pd.DataFrame, classes, snapshot) -> dict[int, targets.PixelLabels]:
    """The painted labels of every image and frame the patches cover, for the mask types among
    ``classes``, read at the snapshot from the pyramid level nearest below the patch scale (a
    patch pixel samples the label under its centre)."""
    from ..masks.tiles import top_level

    mask_types = project.mask_classes()
    mask_types = mask_types[mask_types["name"].isin(classes)]
    if mask_types.empty or index.empty:
        return {}
    lookup = np.zeros(int(mask_types["type_id"].max()) + 2, dtype=np.int64)
    for row in mask_types.itertuples():
        lookup[int(row.type_id)] = classes.index(row.name) + 1
    out = {}
    for image_id, frames in index.groupby("image_id")["frame"].unique().items():
        record = records[int(image_id)]
        level = min(max(0, int(np.floor(np.log2(record.scale * (1 + 1e-9))))), top_level(record.width, record.height))
        tiles = {int(f): project.mask_tiles(int(image_id), frame=int(f), level=level, version=snapshot)
                 for f in frames}
        tiles = {f: t for f, t in tiles.items() if t}
        if tiles:
            out[int(image_id)] = targets.PixelLabels(tiles, lookup)
    return out
