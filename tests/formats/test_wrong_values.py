"""Values of the wrong kind in otherwise well-formed files (a number where a list belongs, text in
a coordinate column, NULL types, sizes of 1e308 whose arithmetic overflows): a FormatError that
names the file, the place and what was expected — never a TypeError or ValueError from inside a
reader, never an error from the store that does not say which file. And folders that hold nothing
to import say so."""

from __future__ import annotations

import json
import sqlite3

import pytest

import exact_lab as xl
from exact_lab import formats
from exact_lab.errors import FormatError, InvalidValueError

DATUMARO = {"categories": {"label": {"labels": [{"name": "c"}]}},
            "items": [{"id": "a", "image": {"path": "a.png", "size": [10, 10]},
                       "annotations": [{"type": "polygon", "label_id": 0, "points": [0, 0, 4, 0, 4, 4]}]}]}
LABELME = {"shapes": [{"label": "c", "points": [[1, 2], [3, 4]], "shape_type": "rectangle"}], "imagePath": "a.png"}


def _changed(doc, path, value):
    doc = json.loads(json.dumps(doc))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(doc)


# (format, file name, content, words the message must contain)
CASES = [
    ("datumaro", "a.json", _changed(DATUMARO, ["items", 0, "annotations"], 5), ["items[0].annotations", "expected a list"]),
    ("datumaro", "a.json", _changed(DATUMARO, ["items", 0, "annotations", 0, "points"], 7),
     ["items[0].annotations[0].points", "expected [x1, y1"]),
    ("datumaro", "a.json", _changed(DATUMARO, ["items", 0, "image"], 3), ["items[0].image", "expected an object"]),
    ("datumaro", "a.json", _changed(DATUMARO, ["items", 0, "image", "size"], 1e308), ["items[0].image.size", "[height, width]"]),
    ("datumaro", "a.json", _changed(DATUMARO, ["items", 0, "annotations", 0, "attributes"], [1]),
     ["items[0].annotations[0].attributes", "expected an object"]),
    ("datumaro", "a.json", _changed(DATUMARO, ["categories", "label"], 4), ["categories.label", "expected an object"]),
    ("datumaro", "a.json", _changed(DATUMARO, ["items", 0, "annotations", 0, "points"], [0, 0, 4, 0, 8, 0]),
     ["items[0].annotations[0].points", "enclose an area"]),
    ("labelme", "a.json", _changed(LABELME, ["shapes", 0, "points"], 5), ["shapes[0].points", "list of [x, y] points"]),
    ("labelme", "a.json", _changed(LABELME, ["shapes", 0, "points", 0], 5), ["shapes[0].points", "list of [x, y] points"]),
    ("labelme", "a.json", _changed(LABELME, ["shapes", 0, "shape_type"], ["rectangle"]), ["shapes[0].shape_type", "expected one of"]),
    ("labelme", "a.json", _changed(LABELME, ["shapes", 0, "description"], {"a": 1}), ["shapes[0].description", "expected a description"]),
    ("labelme", "a.json", _changed(LABELME, ["imageWidth"], -3), ["imageWidth", "an image size in pixels"]),
    ("createml", "a.json", json.dumps([{"image": "a.png", "annotations": [
        {"label": "c", "coordinates": {"x": 1.7e308, "y": 5, "width": 1e308, "height": 2}}]}]),
     ["[0].annotations[0].coordinates", "finite corners"]),
    ("createml", "a.json", json.dumps([{"image": "a.png", "annotations": [
        {"label": "c", "coordinates": {"x": 2**70, "y": 5, "width": 3, "height": 2}}]}]),
     ["[0].annotations[0].coordinates", "positive width and height"]),
    ("coco", "a.json", json.dumps({"images": [{"id": [1], "file_name": "a.png"}], "annotations": [], "categories": []}),
     ["images[0].id", "expected an integer id"]),
    ("coco", "a.json", json.dumps({"images": [{"id": 1, "file_name": "a.png", "width": 1e308}], "annotations": [],
                                   "categories": []}), ["images[0].width", "an image size"]),
    ("coco", "a.json", json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "categories": [{"id": 1, "name": "c"}],
                                   "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1e308, 0, 1e308, 1]}]}),
     ["annotations[0].bbox", "finite"]),
    ("coco", "a.json", json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "categories": [{"id": 1, "name": "c"}],
                                   "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                                                    "segmentation": [[0, 0, 1, None, 2, 2]]}]}),
     ["annotations[0].segmentation[0]", "finite coordinates"]),
    ("coco", "a.json", json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "categories": [{"id": 1, "name": "c"}],
                                   "annotations": [{"id": 1, "image_id": 1, "category_id": 1,
                                                    "segmentation": {"size": [2**20, 2**20], "counts": "00"}}]}),
     ["annotations[0].segmentation.size", "larger than"]),
    ("qupath", "a.geojson", json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                                        "properties": {"name": ["x"]}}), ["features[0].properties.name", "object name"]),
    ("qupath", "a.geojson", json.dumps({"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]},
                                        "properties": {"exact_ellipse": {"bounds": "wide"}}}),
     ["exact_ellipse.bounds", "[xmin, ymin, xmax, ymax]"]),
    ("cvat", "a.xml", '<annotations><image name="a.png" width="inf" height="9"/></annotations>',
     ["<image width='inf'>", "finite number"]),
    ("cvat", "a.xml", '<annotations><image name="a.png"><box label="c" xtl="0" ytl="0" xbr="1" ybr="1" z_order="x"/>'
     "</image></annotations>", ["z_order='x'", "expected an integer"]),
    ("cvat", "a.xml", '<annotations><image name="a.png"><ellipse label="c" cx="1e308" cy="0" rx="1e308" ry="1"/>'
     "</image></annotations>", ["<ellipse>", "stay finite"]),
    ("csv", "a.csv", "image,label,x,y,width,height\na.png,c,1e308,1,1e308,2\n", ["line 2", "finite corners"]),
    ("exact", "a.txt", 'a.png|cell|{"x1": 1, "y1": 2, "x2": 3, "y2": 4, "frame": 1e30}\n', ["line 1 key 'frame'", "frame number"]),
    ("exact", "a.txt", 'a.png|cell|{"x1": 1, "y1": 1, "x2": 2, "y2": 2, "x3": 3, "y3": 3}\n', ["line 1", "enclose an area"]),
]


@pytest.mark.parametrize("fmt,name,content,words", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_wrong_values_name_the_file_place_and_expectation(tmp_path, fmt, name, content, words):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(FormatError) as err:
        formats.read(path, fmt)
    msg = str(err.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


def test_yolo_pixel_values_of_1e308_name_the_label_line(tmp_path):
    (tmp_path / "classes.txt").write_text("cell\n")
    (tmp_path / "a.txt").write_text("0 5 5 2 2\n0 1e308 5 1e308 2\n")
    with pytest.raises(FormatError, match=r"a\.txt, line 2: expected a box with finite corners"):
        formats.read(tmp_path, "yolo", normalized=False)


def _sliderunner(tmp_path, change: str):
    from exact_lab.formats import sliderunner

    db = tmp_path / "s.sqlite"
    con = sqlite3.connect(db)
    for stmt in sliderunner._SCHEMA:
        con.execute(stmt)
    con.execute("INSERT INTO Slides (uid, filename) VALUES (1, 'a.svs')")
    con.execute("INSERT INTO Classes (uid, name) VALUES (1, 'mitosis')")
    con.execute("INSERT INTO Annotations (uid, slide, type, agreedClass) VALUES (7, 1, 1, 1)")
    con.execute("INSERT INTO Annotations_coordinates (uid, coordinateX, coordinateY, slide, annoId, orderIdx) "
                "VALUES (3, 10, 20, 1, 7, 1)")
    con.execute(change)
    con.commit()
    con.close()
    return db


@pytest.mark.parametrize("change,words", [
    ("UPDATE Annotations_coordinates SET coordinateX = 'left'", ["uid 3 column 'coordinateX'", "expected a number, got 'left'"]),
    ("UPDATE Annotations_coordinates SET coordinateY = NULL", ["uid 3 column 'coordinateY'", "expected a number"]),
    ("UPDATE Annotations_coordinates SET coordinateX = 9e999", ["uid 3 column 'coordinateX'", "finite number"]),
    ("UPDATE Annotations SET type = NULL", ["table 'Annotations' uid 7 column 'type'", "expected an integer"]),
    ("UPDATE Annotations SET type = 'spot'", ["table 'Annotations' uid 7 column 'type'", "expected an integer"]),
    ("UPDATE Annotations SET slide = 2.5", ["table 'Annotations' uid 7 column 'slide'", "expected an integer"]),
    ("UPDATE Slides SET width = 'wide'", ["table 'Slides' uid 1 column 'width'", "an image size"]),
    ("UPDATE Slides SET filename = NULL", ["table 'Slides' uid 1 column 'filename'", "expected a file name"]),
])
def test_sliderunner_cells_of_the_wrong_kind_name_table_row_and_column(tmp_path, change, words):
    db = _sliderunner(tmp_path, "SELECT 1")
    assert len(formats.read(db).annotations) == 1  # the database as made is fine
    db.unlink()
    db = _sliderunner(tmp_path, change)
    with pytest.raises(FormatError) as err:
        formats.read(db)
    msg = str(err.value)
    assert str(db) in msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
                  + ']><annotations><image name="&lol9;"/></annotations>')
EXTERNAL = ('<?xml version="1.0"?><!DOCTYPE a [<!ENTITY secret SYSTEM "file://{target}">]>'
            '<annotations><image name="&secret;" width="9" height="9"/></annotations>')


def test_xml_entities_are_never_expanded(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(BILLION_LAUGHS)
    with pytest.raises(FormatError, match="bomb.xml.*not well-formed XML"):
        formats.read(bomb, "cvat")
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    external = tmp_path / "external.xml"
    external.write_text(EXTERNAL.format(target=secret))
    try:
        parsed = formats.read(external, "cvat")
    except FormatError as exc:
        assert "external.xml" in str(exc) and "the secret" not in str(exc)
    else:
        assert "the secret" not in " ".join(map(str, parsed.images["name"]))


@pytest.mark.parametrize("fmt,files", [
    ("voc", {"Annotations/a.xml": "<annotation><filename>a.png</filename></annotation>"}),
    ("labelme", {"a.json": json.dumps({"shapes": [], "imagePath": "a.png"})}),
    ("createml", {"a.json": json.dumps([{"image": "a.png", "annotations": []}])}),
    ("datumaro", {"annotations/default.json": json.dumps({"items": [{"id": "a", "annotations": []}]})}),
    ("qupath", {"a.geojson": json.dumps({"type": "FeatureCollection", "features": []})}),
    ("asap", {"a.xml": "<ASAP_Annotations><Annotations/></ASAP_Annotations>"}),
    ("qupath", {}),
    ("asap", {}),
])
def test_a_folder_with_nothing_to_import_is_an_error(tmp_path, project, fmt, files):
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    before = project.info()
    with pytest.raises(FormatError, match="no annotations found") as err:
        project.import_annotations(tmp_path, format=fmt)
    assert str(tmp_path) in str(err.value)
    assert project.info() == before


def test_a_single_file_without_annotations_imports_nothing_and_says_so(tmp_path, project):
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "annotations": [], "categories": []}))
    report = project.import_annotations(empty)
    assert report["imported"] == 0 and "empty.json holds no annotations" in report["warnings"]


def test_a_store_error_names_the_file(tmp_path, monkeypatch):
    """Whatever the store refuses after the file parsed, the error says which file it was."""
    src = tmp_path / "a.json"
    src.write_text(json.dumps({"images": [{"id": 1, "file_name": "a.png"}], "categories": [{"id": 1, "name": "c"}],
                               "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 2, 2]}]}))
    proj = xl.open_project(tmp_path / "p", user="alice")
    try:
        def refuse(*args, **kwargs):
            raise InvalidValueError("row 0: the store says no")

        monkeypatch.setattr(proj, "import_table", refuse)
        with pytest.raises(InvalidValueError, match=r"a\.json: row 0: the store says no"):
            proj.import_annotations(src)
    finally:
        proj.close()
