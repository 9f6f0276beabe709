"""The datasets room's part of ``Project``: splits and patch datasets."""

from __future__ import annotations


class DatasetsMixin:
    def split(self, image_set, fractions, by=None, seed: int = 0, *, balance: bool = True, version=None,
              prefix: str = "", replace: bool = False):
        """Split ``image_set`` (at ``version``) into virtual image sets, one per key of
        ``fractions`` (e.g. ``{"train": 0.7, "val": 0.15, "test": 0.15}``, named ``prefix + key``),
        that never share an image. ``by``: an image column or meta key (a patient, a case) whose
        images stay together. ``balance``: share out annotation counts as well as images. The same
        images and seed give the same split; the sets are stored (one snapshot), so a version
        committed afterwards reproduces them (``images(image_set="train", version=...)``).
        Returns a DataFrame: image_id, name, group, annotations, split."""
        from .splits import split

        return split(self, image_set, fractions, by, seed, balance=balance, version=version, prefix=prefix,
                     replace=replace)

    def dataset(self, image_set=None, version=None, kind: str = "classification", patch_size: int = 256,
                mpp: float | None = None, level: int | None = None, sampling: str = "annotations", types=None,
                min_verifications: int | None = None, seed: int = 0, *, images=None, manifest=None, **options):
        """A map-style patch dataset at a pinned snapshot (``version``: a name, a snapshot id, or
        None for now): ``len(ds)``; ``ds[i]`` is an H x W x 3 uint8 patch and its target — a class
        index (``classification``), ``{"boxes": N x 4 float32 in patch pixels, "labels"}``
        (``detection``), or an H x W class-index mask, 0 background, class k as k + 1
        (``segmentation``). Classes are ``types`` in that order (default: the types present, by
        sort order); ``ds.classes`` names them.

        ``sampling``: ``annotations`` (a patch centred on each), ``balanced`` (as many per class,
        ``per_class=``), ``grid`` (tiles, ``stride=`` a fraction of the patch), ``random``
        (``per_image=`` patches, from ``seed``). ``mpp=`` or ``level=`` sets the scale.
        ``min_verifications``: only annotations accepted by at least that many users.
        ``images=``: restrict to these images. ``manifest=``: rebuild a dataset from its manifest
        (a dict, JSON or a path), checked against it.

        Safe in PyTorch ``DataLoader`` worker processes (slides are opened per process); no torch
        needed. ``ds.manifest``, ``ds.export(folder, format=...)``, ``proj.attach_dataset(ds)``. Returns the dataset."""
        if manifest is not None:
            from .manifest import from_manifest

            return from_manifest(self, manifest)
        from .build import build_dataset

        return build_dataset(self, image_set, version, kind, patch_size, mpp, level, sampling, types,
                             min_verifications, seed, images=images, **options)

    def attach_dataset(self, ds, version=None, name: str = "dataset-manifest.json") -> dict:
        """Attach ``ds``'s manifest to ``version`` (default the dataset's own version) as an
        artifact; returns the artifact's record."""
        import tempfile
        from pathlib import Path

        from ..errors import InvalidValueError

        version = version if version is not None else ds.version
        if not isinstance(version, str):
            raise InvalidValueError("attach_dataset needs a version name (the dataset was built at a bare snapshot)")
        with tempfile.TemporaryDirectory() as folder:
            path = ds.save_manifest(Path(folder) / name)
            return self.add_artifact(version, path, name=name, meta={"kind": "dataset-manifest", "count": len(ds)})
