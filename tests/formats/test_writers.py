"""What every writer is handed: the live rows only. Soft-deleted annotations (in frames read with
``include_deleted=True``) are dropped in one place, ``formats.write``, for all formats alike."""

from __future__ import annotations

import pytest
import shapely

from exact_lab import formats
from exact_lab.formats._common import Parsed, image_table, table

OUT_NAMES = {"coco": "o.json", "createml": "o.json", "cvat": "o.xml", "asap": "o.xml", "sliderunner": "o.sqlite",
             "qupath": "o.geojson", "csv": "o.csv", "exact": "o.txt", "template": "o.txt"}


@pytest.mark.parametrize("fmt", sorted(formats.FORMATS))
def test_writers_never_write_deleted_annotations(tmp_path, fmt):
    rows = [{"image": "a.png", "type": "cell", "geometry": shapely.box(i * 10, 5, i * 10 + 5, 9), "shape": "box"}
            for i in range(3)]
    parsed = Parsed(table(rows), image_table([{"name": "a.png", "width": 100, "height": 50}]))
    ann, img, tps = formats.frames_from_parsed(parsed)
    ann.loc[1, "deleted"] = True
    out = tmp_path / OUT_NAMES.get(fmt, "out")
    report = formats.write(out, fmt, ann, img, tps)
    assert report["exported"] == 2
    options = {"image": "a.png"} if fmt in ("qupath", "asap") else {}
    back = formats.read(out, fmt, images=img, **options).annotations
    if fmt == "mask":  # one mask per class: its pixels are the two live boxes
        assert back.geometry[0].area == 2 * 5 * 4
    else:
        assert sorted(g.bounds[0] for g in back.geometry) == [0, 20]
