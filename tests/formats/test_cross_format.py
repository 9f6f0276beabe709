"""Conversions between formats, with exactly the loss docs/formats.md states for each pair."""

from __future__ import annotations

from exact_lab import formats

from .conftest import assert_same_annotations, same_geometry


def _via(tmp_path, src_parsed, fmt, name, read_options=None, **opts):
    ann, img, tps = formats.frames_from_parsed(src_parsed)
    report = formats.write(tmp_path / name, fmt, ann, img, tps, **opts)
    return formats.read(tmp_path / name, fmt, images=src_parsed.images, **(read_options or {})), report


def test_coco_yolo_coco_polygons_keep_outline(annotations_dir, tmp_path):
    """COCO -> YOLO -> COCO: polygons come back as polygons within YOLO's precision; a multi-part
    polygon becomes one YOLO line per part (the stated loss: the parts are no longer one
    annotation); classes by name; COCO annotation ids are renumbered."""
    src = formats.read(annotations_dir / "coco/labelme_instance_segmentation/annotations.json")
    yolo, rep = _via(tmp_path, src, "yolo", "yolo")
    assert not rep["skipped"]
    parts = src.annotations.assign(geometry=[list(getattr(g, "geoms", [g])) for g in src.annotations.geometry])
    parts = parts.explode("geometry", ignore_index=True)
    assert len(parts) > len(src.annotations)  # the file has multi-part polygons
    back, _ = _via(tmp_path, yolo, "coco", "back.json")
    assert_same_annotations(parts, back.annotations, tol=1e-6, order=False)


def test_coco_yolo_coco_boxes_with_six_decimals(annotations_dir, tmp_path):
    src = formats.read(annotations_dir / "yolo/label_studio_import_yolo_data")
    coco, _ = _via(tmp_path, src, "coco", "c.json")
    assert_same_annotations(src.annotations, coco.annotations, tol=1e-9)
    yolo, _ = _via(tmp_path, coco, "yolo", "y", precision=6)
    # six decimals of centre and size: a corner is at most 0.75 millionths of the image size off
    assert_same_annotations(coco.annotations, yolo.annotations, tol=1e-6 * 1280)


def test_cvat_to_coco(annotations_dir, tmp_path):
    """CVAT -> COCO: boxes, polygons and point sets survive with their attributes; polylines
    are dropped (COCO has none) and the report says so; occlusion and z-order stay in meta of
    exact-lab but COCO has no field for them."""
    src = formats.read(annotations_dir / "cvat_xml_1.1/datumaro_for_images/export_task/train.xml")
    coco, rep = _via(tmp_path, src, "coco", "c.json")
    kept = src.annotations[src.annotations["shape"] != "polyline"].reset_index(drop=True)
    assert rep["skipped"] == 1 and "polyline" in rep["warnings"][0]
    assert_same_annotations(kept, coco.annotations)
    box = coco.annotations.iloc[0]
    assert box.meta["attributes"] == {"a1": "true", "a2": "v3", "a3": "0003", "a4": "2.4"}


def test_qupath_to_coco_and_back(annotations_dir, tmp_path):
    """QuPath -> COCO -> QuPath: polygons, rectangles and points survive exactly; lines are dropped
    by COCO; the object name and measurements do not fit COCO (the stated loss)."""
    parts = []
    for name in ("polygon", "rectangle", "multipoint", "line"):
        parts.append(formats.read(annotations_dir / f"qupath_geojson/wsidicom_qupath_geojson/qupath-{name}.json",
                                  image="slide.svs"))
    import pandas as pd

    src = formats.Parsed(annotations=pd.concat([p.annotations for p in parts], ignore_index=True),
                         images=parts[0].images)
    coco, rep = _via(tmp_path, src, "coco", "c.json")
    assert rep["skipped"] == 1  # the line
    kept = src.annotations[src.annotations["shape"] != "line"].reset_index(drop=True)
    assert_same_annotations(kept, coco.annotations)
    assert coco.annotations["description"].isna().all()  # names are not carried by COCO
    back, _ = _via(tmp_path, coco, "qupath", "back.geojson", read_options={"image": "slide.svs"})
    assert_same_annotations(kept, back.annotations)


def test_cvat_ellipse_via_coco_and_labelme(tmp_path):
    """An ellipse goes to COCO as its box plus attributes.exact_shape; to LabelMe as a circle
    when round, and comes back as an ellipse both ways."""
    xml = tmp_path / "e.xml"
    xml.write_text('<annotations><version>1.1</version><image id="0" name="a.png" width="100" height="100">'
                   '<ellipse label="cell" cx="50" cy="40" rx="10" ry="10"/>'
                   '<ellipse label="cell" cx="20" cy="20" rx="5" ry="8" rotation="30"/></image></annotations>')
    src = formats.read(xml)
    assert list(src.annotations["shape"]) == ["ellipse", "ellipse"]
    coco, _ = _via(tmp_path, src, "coco", "c.json")
    assert list(coco.annotations["shape"]) == ["ellipse", "ellipse"]
    assert coco.annotations.meta[1]["rotation"] == 30
    assert_same_annotations(src.annotations, coco.annotations)
    lm, rep = _via(tmp_path, formats.Parsed(src.annotations.iloc[:1].reset_index(drop=True), src.images), "labelme", "lm")
    assert lm.annotations.iloc[0]["shape"] == "ellipse"
    assert same_geometry(lm.annotations.geometry[0], src.annotations.geometry[0])


def test_sliderunner_votes_survive_cvat_roundtrip_in_meta(annotations_dir, tmp_path):
    """SlideRunner -> SlideRunner keeps every person's vote; coordinates are integers there."""
    src = formats.read(annotations_dir / "sliderunner_sqlite/HighMCAreas.sqlite")
    back, _ = _via(tmp_path, src, "sliderunner", "x.sqlite")
    assert [m["labels"] for m in back.annotations.meta] == [m["labels"] for m in src.annotations.meta]
