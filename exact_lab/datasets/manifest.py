"""A dataset's manifest: what it was made from and how, so that a later run makes the same one.

``{"format": ..., "version", "snapshot", "kind", "classes", "parameters", "images": [{image_id,
name, checksum, width, height, mpp, scale}], "count", "index_sha256"}``. Rebuilding from it
(``proj.dataset(manifest=...)``) reads the same snapshot with the same parameters and refuses to
go on when an image's checksum or the index's hash differs.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ExactLabError, InvalidValueError
from .sampling import index_hash

FORMAT = "exact-lab-dataset/1"


class ManifestMismatchError(ExactLabError):
    """The project no longer yields the dataset a manifest describes (a file or the index changed)."""


def manifest_of(ds) -> dict:
    return {
        "format": FORMAT,
        "version": ds.version,
        "snapshot": ds.snapshot,
        "kind": ds.kind,
        "classes": ds.classes,
        "parameters": ds.parameters,
        "images": [
            {"image_id": r.image_id, "name": r.name, "checksum": r.checksum, "width": r.width, "height": r.height,
             "mpp": r.mpp, "scale": r.scale}
            for r in sorted(ds.images.values(), key=lambda r: r.image_id)
        ],
        "count": len(ds),
        "index_sha256": index_hash(ds.index),
    }


def save(manifest: dict, path) -> str:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return str(path)


def load(manifest) -> dict:
    """A manifest from a dict, a JSON text or a path to one."""
    if isinstance(manifest, dict):
        data = manifest
    else:
        text = str(manifest)
        if not text.lstrip().startswith("{"):
            try:
                text = Path(manifest).read_text()
            except OSError as exc:
                raise InvalidValueError(f"cannot read manifest {manifest}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidValueError(f"manifest is not JSON: {exc}") from exc
    if data.get("format") != FORMAT:
        raise InvalidValueError(f"not a dataset manifest (format {data.get('format')!r}, expected {FORMAT!r})")
    for key in ("snapshot", "parameters", "images", "index_sha256"):
        if key not in data:
            raise InvalidValueError(f"manifest lacks {key!r}")
    return data


def from_manifest(project, manifest):
    """The dataset the manifest describes, rebuilt at its snapshot and checked against it."""
    from .build import build_dataset

    data = load(manifest)
    params = dict(data["parameters"])
    params["images"] = [img["image_id"] for img in data["images"]]
    ds = build_dataset(project, version=int(data["snapshot"]), **params)
    ds.version = data.get("version")
    # The images as recorded now: a file re-added since the snapshot shows up here.
    current = project.images(ids=[img["image_id"] for img in data["images"]])
    have = dict(zip(current["image_id"].astype(int), current["checksum"]))
    for image in data["images"]:
        if have.get(image["image_id"]) != image["checksum"]:
            raise ManifestMismatchError(
                f"image {image['image_id']} ({image['name']!r}): checksum {have.get(image['image_id'])!r} "
                f"is not the manifest's {image['checksum']!r}")
    got = index_hash(ds.index)
    if got != data["index_sha256"]:
        raise ManifestMismatchError(f"the rebuilt index hashes to {got[:12]}..., the manifest says "
                                    f"{data['index_sha256'][:12]}... ({len(ds)} patches, manifest {data.get('count')})")
    return ds
