"""Through a real project: import -> annotations -> export -> re-import, reports, placeholders,
type mapping, and a failed import that leaves the project exactly as it was."""

from __future__ import annotations

import json

import pytest

import exact_lab as xl
from exact_lab import formats
from exact_lab.errors import FormatError

from .conftest import assert_same_annotations


def _state(proj):
    a = proj.annotations()
    return (len(a), len(proj.images()), list(proj.annotation_types()["name"]))


def test_coco_import_export_reimport(project, annotations_dir, tmp_path):
    src = annotations_dir / "coco/labelme_instance_segmentation/annotations.json"
    report = project.import_annotations(src, image_set="voc")
    assert report["format"] == "coco" and report["imported"] == 12
    assert report["by_type"] == {"person": 6, "bottle": 1, "bus": 2, "car": 1, "chair": 1, "sofa": 1}
    assert report["placeholders"] == 3  # the three JPEGs are not in the image set yet
    imgs = project.images(image_set="voc").set_index("name")
    assert imgs.loc["2011_000003.jpg", "width"] == 500 and imgs.loc["2011_000003.jpg", "placeholder"]
    stored = project.annotations(image_set="voc")
    parsed = formats.read(src)
    assert_same_annotations(parsed.annotations, stored[["image", "type", "geometry"]], order=False)
    types = project.annotation_types().set_index("name")
    assert types.loc["person", "vector_type"] == "polygon" and types.loc["person", "meta"]["coco_id"] == 15

    out = tmp_path / "export.json"
    rep = project.export_annotations(out, "coco", image_set="voc")
    assert rep["exported"] == 12
    doc = json.loads(out.read_text())
    assert {c["name"]: c["id"] for c in doc["categories"]}["person"] == 15  # category ids kept
    other = xl.open_project(tmp_path / "second", user="bob")
    try:
        other.import_annotations(out, image_set="voc")
        assert_same_annotations(stored[["image", "type", "geometry"]],
                                other.annotations(image_set="voc")[["image", "type", "geometry"]], order=False)
    finally:
        other.close()


def test_failed_import_changes_nothing(project, annotations_dir, tmp_path):
    project.import_annotations(annotations_dir / "cvat_xml_1.1/datumaro_for_images/export_task/train.xml", image_set="s")
    before = _state(project)
    bad = tmp_path / "bad.json"
    doc = json.loads((annotations_dir / "coco/labelme_instance_segmentation/annotations.json").read_text())
    doc["annotations"][-1]["category_id"] = 99  # the last row is broken: nothing before it may land
    bad.write_text(json.dumps(doc))
    with pytest.raises(FormatError, match=r"annotations\[11\]\.category_id.*unknown class"):
        project.import_annotations(bad, image_set="s")
    assert _state(project) == before
    truncated = tmp_path / "t.xml"
    truncated.write_text((annotations_dir / "cvat_xml_1.1/datumaro_for_images/export_task/train.xml").read_text()[:900])
    with pytest.raises(FormatError, match="t.xml, line"):
        project.import_annotations(truncated, image_set="s")
    assert _state(project) == before


def test_split_label_goes_back_under_its_own_name(project, annotations_dir, tmp_path):
    """CVAT's unlabeled polyline and polygon need two templates; CVAT gets one label back."""
    rep = project.import_annotations(annotations_dir / "cvat_xml_1.1/datumaro_for_images/export_task/train.xml")
    assert "unclassified (polygon)" in rep["created_types"]
    assert any("cannot hold" in w for w in rep["warnings"])
    out = tmp_path / "back.xml"
    project.export_annotations(out, "cvat")
    again = formats.read(out)
    assert sorted(again.annotations["type"]) == ["label1", "label2", "unclassified", "unclassified"]


def test_type_map_and_create_types(project, annotations_dir):
    project.add_annotation_type("tumour cell", "box")
    src = annotations_dir / "yolo/label_studio_import_yolo_data"
    rep = project.import_annotations(src, image_set="doors", type_map={"bus": "tumour cell"}, create_types=False)
    assert rep["by_type"] == {"tumour cell": 8}
    assert rep["skipped"] == 17 and any("create_types=False" in w for w in rep["warnings"])
    assert list(project.annotation_types()["name"]) == ["tumour cell"]


def test_results_list_with_scores(project, annotations_dir, tmp_path):
    gt = annotations_dir / "coco/datumaro_coco_instances/annotations/instances_train.json"
    project.import_annotations(gt, image_set="s")
    results = tmp_path / "detections.json"
    results.write_text(json.dumps([{"image_id": 5, "category_id": 4, "bbox": [1, 1, 2, 2], "score": 0.9},
                                   {"image_id": 5, "category_id": 1, "bbox": [3, 1, 2, 3], "score": 0.4}]))
    # a results list names images and categories by id: the ground-truth file resolves them
    rep = project.import_annotations(results, image_set="s", gt=gt, source="yolov8-n 1.0")
    assert rep["imported"] == 2 and rep["placeholders"] == 0
    got = project.annotations(image_set="s")
    got = got[got["score"].notna()].sort_values("score")
    assert list(got["score"]) == [0.4, 0.9] and list(got["type"]) == ["a", "c"]
    assert set(got["source"]) == {"yolov8-n 1.0"} and set(got["image"]) == {"a.jpg"}
    # without gt=, ids the project recorded on the first import still resolve (category 2 = "b")
    results.write_text(json.dumps([{"image_id": 5, "category_id": 2, "bbox": [0, 0, 1, 1], "score": 0.5}]))
    rep = project.import_annotations(results, image_set="s")
    assert rep["by_type"] == {"b": 1} and rep["placeholders"] == 0


def test_qupath_into_existing_image(project, annotations_dir, tmp_path):
    """GeoJSON names no image: the image given, matched in the set, gets the shapes."""
    rep = project.import_annotations(annotations_dir / "qupath_geojson/wsidicom_qupath_geojson/qupath-polygon.json",
                                     image_set="wsi", image="CMU-1.svs")
    assert rep["placeholders"] == 1
    rep2 = project.import_annotations(annotations_dir / "qupath_geojson/wsidicom_qupath_geojson/qupath-point.json",
                                      image_set="wsi", image="CMU-1.svs")
    assert rep2["placeholders"] == 0
    a = project.annotations(image_set="wsi")
    assert set(a["image"]) == {"CMU-1.svs"} and len(a) == 2


def test_cli_import_export(annotations_dir, tmp_path, capsys):
    from exact_lab.formats.cli import main

    proj = tmp_path / "p"
    assert main(["import", str(proj), str(annotations_dir / "pascal_voc/labelme_bbox_detection_voc"), "-s", "voc",
                 "--user", "carol", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == 9 and out["format"] == "voc"
    assert main(["export", str(proj), str(tmp_path / "y"), "-f", "yolo_darknet", "-s", "voc"]) == 0
    assert (tmp_path / "y" / "obj.data").exists()
    assert main(["import", str(proj), str(tmp_path / "nothing.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_export_a_named_version(project, annotations_dir, tmp_path):
    """export_annotations(version=...) writes the annotations as they were at that version."""
    project.import_annotations(annotations_dir / "createml/datumaro_roboflow_createml", image_set="c")
    project.commit("v1", message="createml only")
    project.import_annotations(annotations_dir / "pascal_voc/labelme_bbox_detection_voc", image_set="c")
    now = project.export_annotations(tmp_path / "now.json", "coco", image_set="c")
    then = project.export_annotations(tmp_path / "v1.json", "coco", version="v1", image_set="c")
    assert (now["exported"], then["exported"]) == (13, 4)
    back = formats.read(tmp_path / "v1.json")
    assert sorted(back.annotations["type"]) == ["label_0", "label_0", "label_1", "label_1"]
