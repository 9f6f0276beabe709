"""Masks to files and back: PNG class indices (at a level), COCO RLE per class, polygons."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from PIL import Image
from pycocotools import mask as rle

from exact_lab.errors import UnknownTypeError


@pytest.fixture
def painted(labelled):
    proj, image_id, tumour, stroma = labelled
    block = np.zeros((200, 300), np.uint8)
    block[20:120, 30:130] = tumour
    block[50:80, 60:90] = stroma  # a stroma island inside the tumour
    block[150:190, 200:290] = stroma
    proj.set_mask(image_id, block, offset=(1000, 1000))
    full = np.zeros((2967, 2220), np.uint8)
    full[1000:1200, 1000:1300] = block
    return proj, image_id, tumour, stroma, full


def test_png_export_at_level_0_and_1_and_import_round_trip(painted, tmp_path):
    proj, image_id, tumour, stroma, full = painted
    out = proj.export_masks(tmp_path / "png")
    png = [f for f in out["files"] if f.endswith(".png")][0]
    arr = np.asarray(Image.open(png))
    names = [line.split(":")[0] for line in (tmp_path / "png" / "labelmap.txt").read_text().splitlines()[1:]]
    assert names == ["background", "tumour", "stroma"]
    assert np.array_equal(arr, np.select([full == tumour, full == stroma], [1, 2], 0))
    half = np.asarray(Image.open([f for f in proj.export_masks(tmp_path / "half", level=1)["files"] if f.endswith(".png")][0]))
    assert half.shape == (1484, 1110)

    proj.clear_mask(image_id)
    mapping = proj.import_mask_png(png, image_id)
    assert mapping == {1: tumour, 2: stroma}
    assert np.array_equal(proj.mask(image_id, region=(0, 0, 2220, 2967)), full)


def test_png_import_creates_missing_types_or_refuses(labelled, tmp_path):
    proj, image_id, _, _ = labelled
    arr = np.zeros((2967, 2220), np.uint8)
    arr[:10, :10] = 3
    Image.fromarray(arr, mode="L").save(tmp_path / "m.png")
    with pytest.raises(UnknownTypeError, match="class 3"):
        proj.import_mask_png(tmp_path / "m.png", image_id, create_types=False)
    mapping = proj.import_mask_png(tmp_path / "m.png", image_id)
    assert proj.mask_classes().set_index("type_id").loc[mapping[3], "name"] == "class 3"
    assert proj.mask_stats()["pixels"].sum() == 100


def test_coco_rle_per_class_decodes_to_the_mask(painted, tmp_path):
    proj, image_id, tumour, stroma, full = painted
    coco = json.loads(open(proj.export_masks(tmp_path, format="coco")["files"][-1]).read())
    assert {c["name"] for c in coco["categories"]} == {"tumour", "stroma"}
    by_class = {a["category_id"]: a for a in coco["annotations"]}
    for cls in (tumour, stroma):
        seg = by_class[cls]["segmentation"]
        decoded = rle.decode({"size": seg["size"], "counts": seg["counts"].encode()})
        assert np.array_equal(decoded.astype(bool), full == cls)
        assert by_class[cls]["area"] == (full == cls).sum()


def test_polygons_cover_each_class_with_its_holes(painted, tmp_path):
    proj, image_id, tumour, stroma, full = painted
    geo = json.loads(open(proj.export_masks(tmp_path, format="polygons")["files"][0]).read())
    shapes = {f["properties"]["type"]: shapely.geometry.shape(f["geometry"]) for f in geo["features"]}
    assert shapes["tumour"].area == pytest.approx(100 * 100 - 30 * 30, rel=0.02)  # the island is a hole
    assert shapes["stroma"].area == pytest.approx(30 * 30 + 40 * 90, rel=0.03)
    assert shapes["tumour"].bounds == pytest.approx((1030, 1020, 1130, 1120), abs=1)
