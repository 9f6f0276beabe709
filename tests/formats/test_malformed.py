"""Bad input for every reader: a FormatError that names the file, the place and what was
expected — and, through the store, a project left exactly as it was."""

from __future__ import annotations

import json
import sqlite3

import pytest

from exact_lab import formats
from exact_lab.errors import FormatError

COCO_OK = {"images": [{"id": 1, "file_name": "a.png", "width": 10, "height": 10}],
           "categories": [{"id": 1, "name": "cell"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}]}


def _coco(**change):
    d = json.loads(json.dumps(COCO_OK))
    for k, v in change.items():
        if k == "ann":
            d["annotations"][0].update(v)
        else:
            d[k] = v
    return json.dumps(d)


# (format, file name, content, words the message must contain)
CASES = [
    ("coco", "a.json", _coco()[:-40], ["a.json", "line", "not valid JSON"]),
    ("coco", "a.json", _coco(annotations={"x": 1}), ["key 'annotations'", "expected a list"]),
    ("coco", "a.json", _coco(ann={"category_id": 7}), ["annotations[0].category_id", "unknown class"]),
    ("coco", "a.json", _coco(ann={"image_id": 9}), ["annotations[0].image_id", "not in 'images'"]),
    ("coco", "a.json", _coco(ann={"bbox": [1, "x", 2, 2]}), ["annotations[0].bbox", "expected numbers"]),
    ("coco", "a.json", _coco(ann={"bbox": [1, 1, -2, 2]}), ["annotations[0].bbox", "non-negative"]),
    ("coco", "a.json", _coco(ann={"segmentation": [[1, 2, 3]]}), ["segmentation[0]", "even count"]),
    ("coco", "a.json", _coco(ann={"segmentation": {"counts": "x"}}), ["segmentation", "'counts' and 'size'"]),
    ("voc", "a.xml", "<annotation><filename>a.png</filename><object><name>c</name><bndbox><xmin>1</xmin>",
     ["a.xml", "line", "not well-formed"]),
    ("voc", "a.xml", "<annotation><filename>a.png</filename><object><name>c</name><bndbox><xmin>one</xmin>"
     "<ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>", ["<xmin>", "expected a number"]),
    ("voc", "a.xml", "<annotation><filename>a.png</filename><size><width>10</width><height>10</height></size>"
     "<object><name>c</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>50</xmax><ymax>2</ymax></bndbox></object></annotation>",
     ["<object> #1", "outside the 10x10 image"]),
    ("cvat", "a.xml", '<annotations><image name="a.png" width="9" height="9"><box label="c" xtl="a" ytl="0" xbr="1" ybr="1"/>'
     "</image></annotations>", ["a.xml", "xtl='a'", "expected a number"]),
    ("cvat", "a.xml", '<annotations><image name="a.png"><polygon label="c" points="1,2;3"/></image></annotations>',
     ["points", "expected 'x,y;x,y;...'"]),
    ("labelme", "a.json", json.dumps({"shapes": [{"label": "c", "points": [[1, 2]], "shape_type": "polygon"}],
                                      "imagePath": "a.png"}), ["shapes[0].points", "at least 3"]),
    ("labelme", "a.json", json.dumps({"shapes": [{"label": "c", "points": [[1, 2], [3, 4]], "shape_type": "blob"}]}),
     ["shapes[0].shape_type", "expected one of"]),
    ("createml", "a.json", json.dumps([{"image": "a.png", "annotations": [{"label": "c", "coordinates": {"x": 1}}]}]),
     ["[0].annotations[0].coordinates", "missing key"]),
    ("datumaro", "a.json", json.dumps({"categories": {"label": {"labels": [{"name": "c"}]}},
                                       "items": [{"id": "a", "annotations": [{"type": "bbox", "label_id": 3, "bbox": [0, 0, 1, 1]}]}]}),
     ["items[0].annotations[0].label_id", "unknown class"]),
    ("qupath", "a.geojson", json.dumps({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": "x"}}),
     ["features[0].geometry", "expected a GeoJSON geometry"]),
    ("qupath", "a.geojson", json.dumps({"type": "Topology"}), ["top level", "Feature"]),
    ("asap", "a.xml", '<ASAP_Annotations><Annotations><Annotation Type="Polygon" PartOfGroup="t"><Coordinates>'
     '<Coordinate Order="0" X="1" Y="y"/></Coordinates></Annotation></Annotations></ASAP_Annotations>',
     ["<Annotation> #1", "expected numeric X and Y"]),
    ("asap", "a.xml", "<Other/>", ["<Other>", "<ASAP_Annotations>"]),
    ("csv", "a.csv", "filename,class,xmin,ymin,xmax,ymax\na.png,c,1,1,x,4\n", ["line 2", "'xmax'", "expected a number"]),
    ("csv", "a.csv", "foo,bar\n1,2\n", ["line 1 (header)", "image column"]),
    ("exact", "a.txt", 'a.png|cell|{"x1": 1, "y1": 2, "x2": 3\n', ["line 1", "JSON vector"]),
    ("exact", "a.txt", "a.png|cell\n", ["line 1", "image|type|vector"]),
    ("yolo", "keras.txt", "a.png 1,2,3,4,0 5,6,7\n", ["keras.txt", "line 1", "x1,y1,x2,y2,class"]),
]


@pytest.mark.parametrize("fmt,name,content,words", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_reader_names_file_place_and_expectation(tmp_path, fmt, name, content, words):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(FormatError) as err:
        formats.read(path, fmt, image="a.png") if fmt in ("qupath", "asap") else formats.read(path, fmt)
    msg = str(err.value)
    assert str(path) in msg
    for w in words:
        assert w in msg, f"{w!r} not in {msg!r}"


def _yolo_folder(tmp_path, line, names=("cell",)):
    from PIL import Image

    (tmp_path / "obj.names").write_text("\n".join(names) + "\n")
    Image.new("RGB", (20, 10)).save(tmp_path / "a.png")
    (tmp_path / "a.txt").write_text(line + "\n")
    return tmp_path


@pytest.mark.parametrize("line,words", [
    ("3 0.5 0.5 0.2 0.2", ["a.txt", "line 1", "unknown class: class id 3", "1 class names"]),
    ("0 0.5 0.5 0.2", ["line 1", "got 3 values"]),
    ("x 0.5 0.5 0.2 0.2", ["line 1", "integer class id"]),
    ("0 0.5 0.5 0.2 0.2\n0 1.9 0.5 0.2 0.2", []),  # pixels? no: detected as pixels only when declared
])
def test_yolo_errors(tmp_path, line, words):
    folder = _yolo_folder(tmp_path, line)
    if not words:
        with pytest.raises(FormatError, match="line 2.*between 0 and 1"):
            formats.read(folder, "yolo", normalized=True)
        return
    with pytest.raises(FormatError) as err:
        formats.read(folder, "yolo")
    for w in words:
        assert w in str(err.value)


def test_yolo_without_image_size_is_a_clear_error(tmp_path):
    (tmp_path / "classes.txt").write_text("cell\n")
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    with pytest.raises(FormatError, match="a.txt.*need the size of image 'a'"):
        formats.read(tmp_path, "yolo")
    # the project's image of that name supplies the size
    import pandas as pd

    ok = formats.read(tmp_path, "yolo", images=pd.DataFrame({"name": ["a.jpg"], "width": [100], "height": [50]}))
    assert ok.annotations.geometry[0].bounds == (40, 20, 60, 30)


def test_sliderunner_errors(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_text("not a database")
    with pytest.raises(FormatError, match="x.sqlite.*SQLite 3"):
        formats.read(bad, "sliderunner")
    db = tmp_path / "y.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE Slides (uid INTEGER, filename TEXT)")
    con.commit()
    con.close()
    with pytest.raises(FormatError, match="table 'Classes'"):
        formats.read(db, "sliderunner")


def test_mask_errors(tmp_path):
    (tmp_path / "m.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(FormatError, match="m.png.*not a readable PNG"):
        formats.read(tmp_path / "m.png", "mask")


def test_template_errors(tmp_path):
    f = tmp_path / "t.txt"
    f.write_text("something else entirely\n")
    with pytest.raises(FormatError, match="t.txt, line 1.*template"):
        formats.read(f, "template")


def test_unknown_format_and_unsniffable(tmp_path):
    f = tmp_path / "x.bin"
    f.write_bytes(b"\x00\x01")
    with pytest.raises(FormatError, match="cannot tell the annotation format"):
        formats.sniff(f)
    with pytest.raises(FormatError, match="unknown annotation format 'kml'"):
        formats.read(f, "kml")
