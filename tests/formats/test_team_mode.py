"""Imports and exports against a team project (PostgreSQL catalog started by the test run): the
same transactions as the embedded store, including the bulk path for files of plain boxes, a
failed import that leaves the catalog as it was, and a second user reading what the first imported."""

from __future__ import annotations

import json

import numpy as np
import pytest

import exact_lab as xl
from exact_lab import formats
from exact_lab.errors import FormatError

from .conftest import assert_same_annotations


def _boxes_file(path, n: int, seed: int = 0) -> None:
    """A detection file of plain boxes, big enough for the importer's bulk path (>= 10,000 rows)."""
    rng = np.random.default_rng(seed)
    x, y = np.round(rng.uniform(0, 1900, (2, n)), 2)
    w, h = np.round(rng.uniform(4, 90, (2, n)), 2)
    doc = {
        "images": [{"id": i, "file_name": f"tile_{i}.png", "width": 2000, "height": 2000} for i in (1, 2, 3)],
        "categories": [{"id": 1, "name": "mitosis"}, {"id": 2, "name": "lookalike"}],
        "annotations": [
            {"id": k + 1, "image_id": int(k % 3) + 1, "category_id": int(k % 2) + 1,
             "bbox": [float(x[k]), float(y[k]), float(w[k]), float(h[k])], "area": 0, "iscrowd": 0}
            for k in range(n)
        ],
    }
    path.write_text(json.dumps(doc))


def test_team_project_import_export_and_failed_import(team_catalog, annotations_dir, tmp_path):
    location, data = team_catalog
    alice = xl.open_project(location, data=data, user="alice")
    try:
        src = annotations_dir / "coco/labelme_instance_segmentation/annotations.json"
        report = alice.import_annotations(src, image_set="voc")
        assert report["imported"] == 12 and report["placeholders"] == 3
        stored = alice.annotations(image_set="voc")
        assert_same_annotations(formats.read(src).annotations, stored[["image", "type", "geometry"]], order=False)

        boxes = tmp_path / "boxes.json"
        _boxes_file(boxes, 12_000)
        report = alice.import_annotations(boxes, image_set="detections")
        assert report["imported"] == 12_000 and report["by_type"] == {"mitosis": 6_000, "lookalike": 6_000}
        got = alice.annotations(image_set="detections")
        parsed = formats.read(boxes).annotations
        assert_same_annotations(parsed, got[["image", "type", "geometry"]], order=False)

        before = (len(alice.annotations()), len(alice.images()), sorted(alice.annotation_types()["name"]))
        bad = tmp_path / "bad.json"
        doc = json.loads(boxes.read_text())
        doc["annotations"][-1]["bbox"] = [1, 2, "wide", 4]  # the last row is broken
        bad.write_text(json.dumps(doc))
        with pytest.raises(FormatError, match=r"annotations\[11999\]\.bbox"):
            alice.import_annotations(bad, image_set="detections")
        assert (len(alice.annotations()), len(alice.images()), sorted(alice.annotation_types()["name"])) == before

        out = tmp_path / "export.json"
        assert alice.export_annotations(out, "coco", image_set="detections")["exported"] == 12_000
    finally:
        alice.close()

    # another user, another connection to the same catalog: everything alice imported is there
    bob = xl.open_project(location, data=data, user="bob")
    try:
        assert len(bob.annotations(image_set="detections")) == 12_000
        assert set(bob.annotations(image_set="voc")["creator"]) == {"alice"}
        assert_same_annotations(formats.read(out).annotations,
                                bob.annotations(image_set="detections")[["image", "type", "geometry"]], order=False)
    finally:
        bob.close()
