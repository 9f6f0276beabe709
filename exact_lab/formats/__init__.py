"""Annotation formats: one module per format, each with ``read`` and ``write``, and a registry.

    from exact_lab import formats
    report = formats.import_annotations(proj, "coco.json", image_set="CCMCT")
    formats.export_annotations(proj, "out/", "yolo", version="v1")

Readers are pure (file -> Parsed); the store sees a file only once it parsed completely, in one
``import_table`` transaction, so a bad file leaves the project as it was.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import shapely

from ..errors import ExactLabError
from ._checks import check_parsed
from ._common import Parsed, gc_paused
from ._types import resolve_types
from .registry import ALIASES, FORMATS, resolve, sniff

__all__ = [
    "FORMATS", "ALIASES", "Parsed", "sniff", "read", "write", "import_annotations",
    "export_annotations", "frames_from_parsed", "convert",
]


@gc_paused()
def read(path, format: str | None = None, *, images: pd.DataFrame | None = None, **options) -> Parsed:
    """Parse an annotation file or folder without touching any project."""
    name, module, implied = resolve(format or sniff(path))
    return check_parsed(module.read(path, images=images, **{**implied, **options}), path)


@gc_paused()
def write(path, format: str, annotations: pd.DataFrame, images: pd.DataFrame,
          types: pd.DataFrame, **options) -> dict:
    """Write annotations (as ``Project.annotations`` returns them) in a format; returns a report.
    Writers get live rows only: soft-deleted ones (``include_deleted=True`` reads) are dropped here."""
    name, module, implied = resolve(format)
    if "deleted" in annotations:
        annotations = annotations[~annotations["deleted"].fillna(False).astype(bool)]
    report = module.write(path, annotations, images, types, **{**implied, **options})
    report.setdefault("format", name)
    return report


@gc_paused()
def import_annotations(project, path, format: str | None = None, *, image_set: str | None = None,
                       type_map: dict | None = None, create_types: bool = True, **options) -> dict:
    """Import a file into a project in one transaction and return the report."""
    name, module, implied = resolve(format or sniff(path))
    try:
        known = project.images(image_set=image_set or "default")
    except (KeyError, ValueError):  # the set does not exist yet: the import will create it
        known = project.images().iloc[0:0]
    existing = project.annotation_types()
    t0 = time.perf_counter()
    parsed = check_parsed(module.read(path, images=known, known_types=existing, **{**implied, **options}), path)
    t1 = time.perf_counter()
    boxes = parsed.boxes
    ann, specs, warnings, skipped = resolve_types(
        parsed.lazy_annotations, parsed.types, existing, type_map=type_map, create_types=create_types
    )
    if boxes is not None:
        vts = {**dict(zip(existing["name"], existing["vector_type"])),
               **{k: v["vector_type"] for k, v in specs.items()}}
        bulk = len(ann) == len(boxes) and all(vts.get(t) in ("box", "fixed_box") for t in set(ann["type"]))
        if not bulk:  # the boxes land in other templates or rows were dropped: build the shapes
            boxes = None
            ann, specs, warnings, skipped = resolve_types(
                parsed.annotations, parsed.types, existing, type_map=type_map, create_types=create_types)
    table_ = _for_store(ann)
    if boxes is not None:
        # bulk path: corners straight to the store's box columns, no shapes built at all
        table_ = table_.drop(columns=["geometry"])
        table_["xmin"], table_["ymin"], table_["xmax"], table_["ymax"] = boxes.T
    t2 = time.perf_counter()
    try:
        report = project.import_table(
            table_,
            image_set=image_set,
            type_map=None,
            create_types=create_types,
            types=specs,
            images=parsed.images,
            source_file=str(path),
        )
    except ExactLabError as exc:  # the store's own checks name a row; say which file it is from
        if str(path) in str(exc):
            raise
        raise type(exc)(f"{path}: {exc}") from exc
    report = dict(report)
    report["seconds"] = {"read": round(t1 - t0, 3), "types": round(t2 - t1, 3),
                         "store": round(time.perf_counter() - t2, 3)}
    report["format"] = name
    report["file"] = str(path)
    report["skipped"] = int(report.get("skipped", 0)) + parsed.skipped + skipped
    report["warnings"] = list(parsed.warnings) + warnings + list(report.get("warnings", []))
    return report


def _for_store(ann: pd.DataFrame) -> pd.DataFrame:
    """Drop optional columns no row fills; rows without meta get an empty dict (the store's JSON
    encoding expects a dict or nothing in every row)."""
    ann = ann.drop(columns=["shape"])
    for col in ("frame", "score", "source", "description", "uuid", "concealed", "blurred", "meta"):
        if col in ann and ann[col].isna().all():
            ann = ann.drop(columns=[col])
    if "meta" in ann:
        ann["meta"] = [m if isinstance(m, dict) else {} for m in ann["meta"]]
    for flag in ("concealed", "blurred"):
        if flag in ann:
            ann[flag] = ann[flag].fillna(False).astype(bool)
    return ann


@gc_paused()
def export_annotations(project, path, format: str, version=None, image_set: str | None = None,
                       types=None, min_verifications: int | None = None, **options) -> dict:
    """Write a project's annotations (optionally at a version, of an image set or types);
    ``min_verifications`` keeps only those accepted with at least that many verifications."""
    anns = project.annotations(image_set=image_set, types=types, version=version)
    if min_verifications is not None:
        accepted = project.consensus(image_set=image_set, min_verifications=min_verifications)
        anns = anns[anns["uuid"].isin(accepted.loc[accepted["accepted"], "uuid"])].reset_index(drop=True)
    imgs = project.images(image_set=image_set) if image_set is not None else project.images()
    tps = project.annotation_types()
    report = write(path, format, anns, imgs, tps, **options)
    report["path"] = str(path)
    return report


def frames_from_parsed(parsed: Parsed) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(annotations, images, types) shaped like the store's, straight from a parsed file: lets
    a file be converted to another format, or a writer be tested, without a project."""
    ann, specs, _, _ = resolve_types(parsed.annotations, parsed.types, None)
    names = list(dict.fromkeys(list(parsed.images["name"]) + list(ann["image"])))
    img = pd.DataFrame({"image_id": np.arange(1, len(names) + 1), "name": names})
    known = parsed.images.set_index("name")
    img["width"] = [known["width"].get(n) if n in known.index else None for n in names]
    img["height"] = [known["height"].get(n) if n in known.index else None for n in names]
    img["meta"] = [known["meta"].get(n) if n in known.index else None for n in names]
    ids = dict(zip(img["name"], img["image_id"]))
    type_rows = [
        {"type_id": i + 1, "name": n, "vector_type": s["vector_type"], "color": s.get("color"),
         "node_count": s.get("node_count"), "sort_order": i, "meta": s.get("meta") or {}}
        for i, (n, s) in enumerate(specs.items())
    ]
    tps = pd.DataFrame(type_rows, columns=["type_id", "name", "vector_type", "color", "node_count",
                                           "sort_order", "meta"])
    vt = dict(zip(tps["name"], tps["vector_type"]))
    out = ann.drop(columns=["shape"]).copy()
    out.insert(0, "image_id", [ids[n] for n in out["image"]])
    out["vector_type"] = [vt[t] for t in out["type"]]
    out["frame"] = out["frame"].where(out["frame"].notna(), 0) if len(out) else out["frame"]
    out["uuid"] = [u if isinstance(u, str) else f"row-{i}" for i, u in enumerate(out["uuid"])]
    for flag in ("concealed", "blurred"):
        out[flag] = out[flag].fillna(False).astype(bool) if len(out) else out[flag]
    out["meta"] = [m if isinstance(m, dict) else {} for m in out["meta"]]
    geoms = out["geometry"].to_numpy(dtype=object)
    bounds = np.full((len(out), 4), np.nan)
    present = np.array([g is not None for g in geoms], dtype=bool)
    if present.any():
        bounds[present] = shapely.bounds(np.asarray(list(geoms[present]), dtype=object))
    out["xmin"], out["ymin"], out["xmax"], out["ymax"] = bounds.T
    out["deleted"] = False
    return out, img, tps


@gc_paused()
def convert(src, dst, to_format: str, *, from_format: str | None = None,
            read_options: dict | None = None, **write_options) -> dict:
    """File to file in another format, without a project."""
    parsed = read(src, from_format, **(read_options or {}))
    ann, img, tps = frames_from_parsed(parsed)
    return write(dst, to_format, ann, img, tps, **write_options)
