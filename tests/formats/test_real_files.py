"""Every real annotation file under ../shared/data/annotations/: what we read must be what the
file holds (counted and checked independently with the standard library or pycocotools), and
what we write must read back to the same geometry."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import shapely

from exact_lab import formats
from exact_lab.formats import _geometry as G

from .conftest import assert_same_annotations, same_geometry

# (relative path, format the sniffer must find)
SOURCES = [
    ("coco/datumaro_coco_instances/annotations/instances_train.json", "coco"),
    ("coco/datumaro_coco_instances/annotations/instances_val.json", "coco"),
    ("coco/datumaro_coco_person_keypoints/annotations/person_keypoints_train.json", "coco"),
    ("coco/datumaro_coco_person_keypoints/annotations/person_keypoints_val.json", "coco"),
    ("coco/labelme_instance_segmentation/annotations.json", "coco"),
    ("pascal_voc/datumaro_voc_dataset1", "voc"),
    ("pascal_voc/labelme_bbox_detection_voc", "voc"),
    ("pascal_voc/datumaro_voc_dataset1/SegmentationClass/2007_000001.png", "mask"),
    ("pascal_voc/datumaro_voc_dataset1/SegmentationObject", "mask"),
    ("yolo/datumaro_yolo_dataset/strict", "yolo"),
    ("yolo/datumaro_yolo_dataset/labels", "yolo"),
    ("yolo/datumaro_yolo_dataset/annotations", "yolo"),
    ("yolo/label_studio_import_yolo_data", "yolo"),
    ("cvat_xml_1.1/datumaro_for_images/export_task/train.xml", "cvat"),
    ("cvat_xml_1.1/datumaro_for_images/export_project/annotations.xml", "cvat"),
    ("labelme/bbox_detection", "labelme"),
    ("labelme/instance_segmentation", "labelme"),
    ("labelme/tutorial/apc2016_obj3.json", "labelme"),
    ("createml/datumaro_roboflow_createml", "createml"),
    ("datumaro_json/datumaro_dataset/legacy", "datumaro"),
    *[(f"qupath_geojson/wsidicom_qupath_geojson/qupath-{n}.json", "qupath")
      for n in ("brush", "ellipse", "line", "multipoint", "point", "polygon", "polyline", "rectangle", "wand")],
    *[(f"asap_xml/wsidicom_asap/asap-{n}.xml", "asap") for n in ("dot", "pointset", "polygon")],
    ("sliderunner_sqlite/HighMCAreas.sqlite", "sliderunner"),
    ("sliderunner_sqlite/SlideRunner-2.0_default_Slides.sqlite", "sliderunner"),
    ("sliderunner_sqlite/TUPAC.sqlite", "sliderunner"),
]


def test_every_file_is_covered(annotations_dir):
    """A file added to the shared data without a test here fails this test."""
    covered = {s for s, _ in SOURCES}
    roots = {p.relative_to(annotations_dir).as_posix() for p in annotations_dir.rglob("*")
             if p.suffix.lower() in (".json", ".xml", ".sqlite", ".txt", ".png") and "Segmentation" not in str(p)
             and "ImageSets" not in str(p)}
    missed = [r for r in roots if not any(r == c or r.startswith(c + "/") for c in covered)]
    assert not missed, missed


@pytest.mark.parametrize("rel,fmt", SOURCES, ids=[s for s, _ in SOURCES])
def test_sniffed_format(annotations_dir, rel, fmt):
    assert formats.sniff(annotations_dir / rel) == fmt


# --- counts, classes and geometry against an independent reading --------------------------


def _coco_expect(path):
    d = json.loads(Path(path).read_text())
    cats = {c["id"]: c["name"] for c in d["categories"]}
    return [cats[a["category_id"]] for a in d["annotations"]]


@pytest.mark.parametrize("rel", [s for s, f in SOURCES if f == "coco"])
def test_coco_against_pycocotools(annotations_dir, rel):
    from pycocotools.coco import COCO

    path = annotations_dir / rel
    parsed = formats.read(path)
    ann = parsed.annotations
    coco = COCO(str(path))
    ids = sorted(coco.anns)
    assert len(ann) == len(ids)
    assert list(ann["type"]) == _coco_expect(path)
    names = {im["file_name"].split("/")[-1] for im in coco.imgs.values()}
    assert set(parsed.images["name"]) == names
    for row, aid in zip(ann.itertuples(), ids):
        a = coco.anns[aid]
        assert row.type == coco.cats[a["category_id"]]["name"]
        img = coco.imgs[a["image_id"]]
        assert row.image == img["file_name"].split("/")[-1]
        seg = a.get("segmentation")
        if row.shape == "mask":
            # the same pixels pycocotools decodes, and the outline covers exactly them
            m = coco.annToMask(a).astype(bool)
            assert np.array_equal(G.rle_decode(row.meta["rle"]), m)
            assert np.array_equal(G.geometry_to_mask(row.geometry, *m.shape), m)
        elif row.shape == "polygon":
            rings = [np.asarray(s, float).reshape(-1, 2) for s in seg]
            polys = G.polygons_of(row.geometry)
            assert len(polys) == len(rings)
            for p, r in zip(polys, rings):
                np.testing.assert_array_equal(G.exterior_coords(p), r)
        elif row.shape == "point":
            kp = np.asarray(a["keypoints"], float).reshape(-1, 3)
            np.testing.assert_array_equal(shapely.get_coordinates(row.geometry), kp[kp[:, 2] > 0][:, :2])
            assert row.meta["visibility"] == kp[:, 2].astype(int).tolist()
        else:
            x, y, w, h = a["bbox"]
            assert same_geometry(row.geometry, shapely.box(x, y, x + w, y + h))


def test_coco_values(annotations_dir):
    """Spot values: the datumaro instances hold a 3x1 box, a polygon with attributes, an RLE crowd."""
    train = formats.read(annotations_dir / "coco/datumaro_coco_instances/annotations/instances_train.json")
    assert train.annotations.geometry[0].bounds == (2.0, 2.0, 5.0, 3.0)
    assert train.images.iloc[0].to_dict()["width"] == 10
    val = formats.read(annotations_dir / "coco/datumaro_coco_instances/annotations/instances_val.json").annotations
    assert val.meta[0] == {"attributes": {"x": 1, "y": "hello"}}
    assert val.meta[1]["iscrowd"] == 1 and val.geometry[1].bounds == (0, 0, 2, 10)
    kp = formats.read(annotations_dir / "coco/datumaro_coco_person_keypoints/annotations/person_keypoints_train.json")
    assert kp.types["a"]["meta"]["skeleton"] == [[0, 1], [1, 2]]
    assert shapely.get_coordinates(kp.annotations.geometry[0]).tolist() == [[0, 2], [4, 1]]


def _voc_expect(folder):
    out = []
    for f in sorted((folder / "Annotations").glob("*.xml")):
        root = ET.parse(f).getroot()
        for o in root.findall("object"):
            b = o.find("bndbox")
            out.append((root.findtext("filename"), o.findtext("name"),
                        tuple(float(b.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax"))))
    return out


@pytest.mark.parametrize("rel", ["pascal_voc/datumaro_voc_dataset1", "pascal_voc/labelme_bbox_detection_voc"])
def test_voc(annotations_dir, rel):
    ann = formats.read(annotations_dir / rel).annotations
    expect = _voc_expect(annotations_dir / rel)
    got = [(r.image, r.type, r.geometry.bounds) for r in ann.itertuples()]
    assert got == expect
    if "datumaro" in rel:
        person = ann[ann["type"] == "person"].iloc[0]
        assert person.meta["voc"]["parts"][0]["name"] == "head"
        assert person.meta["voc"]["actions"]["jumping"] == "0"


def test_voc_segmentation_png(annotations_dir):
    """VOC colour PNGs: class colours mapped through VOC's colour map to VOC's class names."""
    cls = formats.read(annotations_dir / "pascal_voc/datumaro_voc_dataset1/SegmentationClass/2007_000001.png")
    row = cls.annotations.iloc[0]
    assert (row.image, row.type) == ("2007_000001.jpg", "bicycle")  # (0,128,0) is VOC index 2
    assert row.geometry.equals(shapely.box(0, 0, 20, 10))
    obj = formats.read(annotations_dir / "pascal_voc/datumaro_voc_dataset1/SegmentationObject")
    assert list(obj.annotations["type"]) == ["aeroplane"]  # (128,0,0) is index 1


def _yolo_lines(folder):
    return sum(1 for f in folder.rglob("*.txt") for ln in f.read_text().splitlines()
               if ln.strip() and ln.split()[0].isdigit() and len(ln.split()) == 5)


@pytest.mark.parametrize("rel,n_images", [("yolo/datumaro_yolo_dataset/strict", 1), ("yolo/datumaro_yolo_dataset/labels", 2),
                                          ("yolo/datumaro_yolo_dataset/annotations", 1),
                                          ("yolo/label_studio_import_yolo_data", 7)])
def test_yolo(annotations_dir, rel, n_images):
    from PIL import Image

    folder = annotations_dir / rel
    parsed = formats.read(folder)
    assert len(parsed.annotations) == _yolo_lines(folder)
    assert len(parsed.images) == n_images
    if "label_studio" in rel:
        names = (folder / "classes.txt").read_text().split()
        line = (folder / "labels/img_1.txt").read_text().splitlines()[0].split()
        w, h = Image.open(folder / "images/img_1.jpg").size
        cx, cy, bw, bh = (float(v) for v in line[1:])
        first = parsed.annotations.iloc[0]
        assert first.type == names[int(line[0])]
        np.testing.assert_allclose(first.geometry.bounds, [(cx - bw / 2) * w, (cy - bh / 2) * h,
                                                           (cx + bw / 2) * w, (cy + bh / 2) * h], atol=1e-6)
    else:
        # "2 0.133333 0.300000 0.266667 0.200000" on a 15x10 image, class label_2
        row = parsed.annotations.iloc[0]
        assert row.type == "label_2"
        np.testing.assert_allclose(row.geometry.bounds, [0, 2, 4, 4], atol=1e-4)


def _cvat_expect(path):
    root = ET.parse(path).getroot()
    return [(im.get("name"), el.tag, el.get("label")) for im in root.iter("image") for el in im
            if el.tag in ("box", "polygon", "polyline", "points", "ellipse", "tag", "mask")]


@pytest.mark.parametrize("rel", ["cvat_xml_1.1/datumaro_for_images/export_task/train.xml",
                                 "cvat_xml_1.1/datumaro_for_images/export_project/annotations.xml"])
def test_cvat(annotations_dir, rel):
    parsed = formats.read(annotations_dir / rel)
    ann = parsed.annotations
    expect = _cvat_expect(annotations_dir / rel)
    assert len(ann) == len(expect)
    kinds = {"box": "box", "polygon": "polygon", "polyline": "polyline", "points": "point"}
    assert [kinds[t] for _, t, _ in expect] == list(ann["shape"])
    assert [lb or "unclassified" for _, _, lb in expect] == list(ann["type"])
    box = ann.iloc[0]
    assert box.geometry.bounds == (0, 2, 4, 4)
    assert box.meta["attributes"] == {"a1": "true", "a2": "v3", "a3": "0003", "a4": "2.4"}
    assert box.meta["occluded"] is True
    pts = ann[ann["shape"] == "point"].iloc[0]
    assert shapely.get_coordinates(pts.geometry).tolist() == [[1, 2], [3, 4], [5, 6]]


@pytest.mark.parametrize("rel", ["labelme/bbox_detection", "labelme/instance_segmentation", "labelme/tutorial/apc2016_obj3.json"])
def test_labelme(annotations_dir, rel):
    path = annotations_dir / rel
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    shapes = [s for f in files for s in json.loads(f.read_text())["shapes"]]
    ann = formats.read(path).annotations
    assert list(ann["type"]) == [s["label"] for s in shapes]
    for row, s in zip(ann.itertuples(), shapes):
        pts = np.asarray(s["points"])
        if s["shape_type"] == "rectangle":
            assert row.geometry.bounds == (*pts.min(axis=0), *pts.max(axis=0))
        else:
            np.testing.assert_array_equal(G.exterior_coords(row.geometry), pts)
            assert row.meta is None or row.meta.get("group_id") == s["group_id"]
    if "tutorial" in rel:  # imagePath names the JSON itself; the image beside it is used
        assert set(ann["image"]) == {"apc2016_obj3.jpg"}


def test_createml(annotations_dir):
    ann = formats.read(annotations_dir / "createml/datumaro_roboflow_createml").annotations
    assert len(ann) == 4
    # train_001: label_0 centred at (2, 1), 3 x 1
    row = ann[ann["image"] == "train_001.jpg"].iloc[0]
    assert row.type == "label_0" and row.geometry.bounds == (0.5, 0.5, 3.5, 1.5)


def test_datumaro(annotations_dir):
    parsed = formats.read(annotations_dir / "datumaro_json/datumaro_dataset/legacy")
    ann = parsed.annotations
    total = sum(len(it["annotations"]) for f in (annotations_dir / "datumaro_json/datumaro_dataset/legacy/annotations").glob("*.json")
                for it in json.loads(f.read_text())["items"])
    assert len(ann) == total == 7
    assert set(ann["shape"]) == {"global"}
    assert sorted(ann[ann["image"] == "b.jpg"]["type"]) == ["bicycle", "car", "mary", "tom"]
    assert ann[ann["image"] == "a.jpg"].iloc[0].score == 1.0


@pytest.mark.parametrize("name,shape", [("brush", "polygon"), ("ellipse", "polygon"), ("line", "line"),
                                        ("multipoint", "point"), ("point", "point"), ("polygon", "polygon"),
                                        ("polyline", "polyline"), ("rectangle", "box"), ("wand", "polygon")])
def test_qupath(annotations_dir, name, shape):
    path = annotations_dir / f"qupath_geojson/wsidicom_qupath_geojson/qupath-{name}.json"
    feat = json.loads(path.read_text())
    parsed = formats.read(path, image="slide.svs")
    row = parsed.annotations.iloc[0]
    assert len(parsed.annotations) == 1 and row.image == "slide.svs"
    assert row["shape"] == shape and row.type == "unclassified"
    assert same_geometry(row.geometry, shapely.geometry.shape(feat["geometry"]))
    assert row.description == feat["properties"]["name"]


@pytest.mark.parametrize("name,kind,n", [("dot", "Point", 1), ("pointset", "MultiPoint", 5), ("polygon", "Polygon", 6)])
def test_asap(annotations_dir, name, kind, n):
    path = annotations_dir / f"asap_xml/wsidicom_asap/asap-{name}.xml"
    row = formats.read(path, image="slide.tif").annotations.iloc[0]
    coords = [(float(c.get("X")), float(c.get("Y"))) for c in ET.parse(path).getroot().iter("Coordinate")]
    assert row.geometry.geom_type == kind
    got = G.exterior_coords(row.geometry) if kind == "Polygon" else shapely.get_coordinates(row.geometry)
    np.testing.assert_array_equal(got, coords[:n])


@pytest.mark.parametrize("name", ["HighMCAreas.sqlite", "SlideRunner-2.0_default_Slides.sqlite", "TUPAC.sqlite"])
def test_sliderunner(annotations_dir, name):
    path = annotations_dir / "sliderunner_sqlite" / name
    con = sqlite3.connect(path)
    n = con.execute("SELECT count(*) FROM Annotations").fetchone()[0]
    n_slides = con.execute("SELECT count(*) FROM Slides").fetchone()[0]
    parsed = formats.read(path)
    ann = parsed.annotations
    assert len(ann) == n and len(parsed.images) == n_slides
    if name == "TUPAC.sqlite":
        x, y, slide = con.execute("SELECT coordinateX, coordinateY, slide FROM Annotations_coordinates WHERE annoId = 1").fetchone()
        d, f = con.execute("SELECT directory, filename FROM Slides WHERE uid = ?", [slide]).fetchone()
        row = ann.iloc[0]
        assert row.geometry.equals(shapely.Point(x, y)) and row.image == f"{d}/{f}"  # 25.tif exists in several folders
        assert row.type == "Mitosis" and row.meta["labels"] == [{"person": "TUPAC_1", "class": "Mitosis"}]
        assert row.meta["guid"] == "04a64cb7-123a-4f4e-8dfb-bf62e1ceac42"
    if name == "HighMCAreas.sqlite":
        assert (ann["shape"] == "box").sum() == 32 and (ann["shape"] == "line").sum() == 1  # one flat area
        assert ann.iloc[1].geometry.bounds == (14024, 16105, 21057, 21369)


# --- export and re-import: the same geometry ---------------------------------------------------

ROUNDTRIPS = [(s, f) for s, f in SOURCES if f not in ("mask",)]


@pytest.mark.parametrize("rel,fmt", ROUNDTRIPS, ids=[s for s, _ in ROUNDTRIPS])
def test_export_reimport_same_geometry(annotations_dir, roundtrip, rel, fmt):
    suffix = {"coco": "out.json", "cvat": "out.xml", "qupath": "out.geojson", "asap": "out.xml",
              "sliderunner": "out.sqlite", "createml": "out.json"}.get(fmt, "out")
    opts = {"image": "slide.svs"} if fmt in ("qupath", "asap") else {}
    before, after, report = roundtrip(annotations_dir / rel, fmt, out_name=suffix, read_options=opts,
                                      reread_options=opts)
    # YOLO writes normalised values in full precision; SlideRunner stores integers
    tol = {"yolo": 1e-6, "sliderunner": 0.5}.get(fmt, 1e-9)
    assert_same_annotations(before.annotations, after.annotations, tol, order=fmt not in ("voc", "labelme"))
    assert report["exported"] == len(before.annotations)


def test_mask_roundtrip_same_pixels(annotations_dir, roundtrip, tmp_path):
    before, after, _ = roundtrip(annotations_dir / "coco/datumaro_coco_instances/annotations/instances_val.json", "mask")
    b = before.annotations[before.annotations["shape"] == "mask"].iloc[0]
    a = after.annotations[after.annotations["type"] == b.type].iloc[0]
    assert np.array_equal(G.rle_decode(a.meta["rle"]), G.rle_decode(b.meta["rle"]))
