"""Adding, validating, updating, soft-deleting and querying annotations."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

from exact_lab.errors import InvalidGeometryError, UnknownAnnotationError, UnknownImageError, UnknownTypeError


@pytest.fixture
def proj(project, small_svs):
    for name, vt in [("box", "box"), ("pt", "point"), ("ell", "ellipse"), ("ln", "line"),
                     ("pl", "polyline"), ("poly", "polygon"), ("tag", "global"), ("mask", "mask")]:
        project.add_annotation_type(name, vt)
    project.add_annotation_type("fixed", "fixed_box", default_size=(50, 50))
    project.image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    return project


def test_every_vector_type_round_trips(proj):
    geoms = {
        "box": box(1, 2, 30, 40), "pt": Point(3.5, 4.25), "ell": box(10, 10, 20, 40),
        "ln": LineString([(0, 0), (10, 5)]), "pl": LineString([(0, 0), (10, 5), (20, 0)]),
        "poly": Polygon([(0, 0), (10, 0), (5, 8)]), "tag": None,
        "mask": Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]]),
        "fixed": box(100, 100, 150, 150),
    }
    rows = pd.DataFrame({"image_id": proj.image_id, "type": list(geoms), "geometry": list(geoms.values())})
    uuids = proj.add_annotations(rows)
    stored = proj.annotations().set_index("uuid")
    for uuid, (name, geom) in zip(uuids, geoms.items()):
        row = stored.loc[uuid]
        assert row["type"] == name
        if geom is None:
            assert row["geometry"] is None and np.isnan(row["xmin"])
        else:
            assert row["geometry"].equals_exact(geom, 0), name
            assert (row["xmin"], row["ymin"], row["xmax"], row["ymax"]) == geom.bounds


def test_keypoint_sets_are_multipoints(proj):
    uuid = proj.add_annotations([{"image_id": proj.image_id, "type": "pt",
                                  "geometry": MultiPoint([(1, 1), (5, 9), (7, 2)])}])[0]
    assert proj.annotations(uuids=[uuid])["geometry"].iloc[0].equals_exact(MultiPoint([(1, 1), (5, 9), (7, 2)]), 0)


@pytest.mark.parametrize("kind, geometry, message", [
    ("box", Polygon([(0, 0), (10, 0), (5, 8)]), "axis-aligned rectangle"),
    ("box", Point(1, 1), "needs a Polygon"),
    ("pt", box(0, 0, 1, 1), "needs a MultiPoint or Point"),
    ("ln", LineString([(0, 0), (1, 1), (2, 0)]), "exactly two points"),
    ("poly", Polygon([(0, 0), (1, 1), (2, 2)]), "enclosing an area"),
    ("poly", None, "needs a geometry"),
    ("tag", Point(1, 1), "no geometry"),
    ("pt", Point(float("nan"), 1), "finite"),
])
def test_invalid_geometry_names_the_row_and_writes_nothing(proj, kind, geometry, message):
    good = {"image_id": proj.image_id, "type": "box", "geometry": box(0, 0, 5, 5)}
    bad = {"image_id": proj.image_id, "type": kind, "geometry": geometry}
    before = proj.snapshots()
    with pytest.raises(InvalidGeometryError, match=rf"row 2: .*{message}"):
        proj.add_annotations([good, good, bad, good])
    assert proj.annotations(include_deleted=True).empty
    assert len(proj.snapshots()) == len(before)


def test_unparseable_geometry_and_unknown_references(proj):
    with pytest.raises(InvalidGeometryError, match="row 1: cannot read geometry"):
        proj.add_annotations([{"image_id": proj.image_id, "type": "box", "geometry": "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"},
                              {"image_id": proj.image_id, "type": "box", "geometry": "POLYGON ((0 0"}])
    with pytest.raises(UnknownTypeError, match="row 1: unknown annotation type 'nope'"):
        proj.add_annotations([{"image_id": proj.image_id, "type": "box", "geometry": box(0, 0, 1, 1)},
                              {"image_id": proj.image_id, "type": "nope", "geometry": box(0, 0, 1, 1)}])
    with pytest.raises(UnknownImageError, match="no image 99"):
        proj.add_annotations([{"image_id": 99, "type": "box", "geometry": box(0, 0, 1, 1)}])
    assert proj.annotations(include_deleted=True).empty


def test_wkt_wkb_geojson_inputs_and_box_columns(proj):
    g = box(0, 0, 10, 10)
    rows = [{"image_id": proj.image_id, "type": "box", "geometry": g.wkt},
            {"image_id": proj.image_id, "type": "box", "geometry": shapely.to_wkb(g)},
            {"image_id": proj.image_id, "type": "box", "geometry": shapely.geometry.mapping(g)}]
    proj.add_annotations(rows)
    table = pa.table({"image_id": [proj.image_id] * 2, "type": ["box", "fixed"],
                      "xmin": [1.0, 100.0], "ymin": [2.0, 100.0], "xmax": [3.0, 150.0], "ymax": [4.0, 150.0]})
    proj.add_annotations(table)
    stored = proj.annotations()
    assert len(stored) == 5
    assert sum(geom.equals_exact(g, 0) for geom in stored["geometry"]) == 3
    assert any(geom.equals_exact(box(1, 2, 3, 4), 0) for geom in stored["geometry"])
    with pytest.raises(InvalidGeometryError, match="row 0: box"):
        proj.add_annotations(pd.DataFrame({"image_id": [proj.image_id], "type": ["box"],
                                           "xmin": [5.0], "ymin": [0.0], "xmax": [1.0], "ymax": [1.0]}))


def test_attributes_meta_and_updates(proj):
    uuid = proj.add_annotations([{"image_id": proj.image_id, "type": "box", "geometry": box(0, 0, 5, 5),
                                  "score": 0.9, "source": "model-a v1", "description": "first",
                                  "meta": {"grade": 2}, "frame": 0}])[0]
    row = proj.annotations(uuids=[uuid]).iloc[0]
    assert (row["score"], row["source"], row["description"], row["meta"]) == (0.9, "model-a v1", "first", {"grade": 2})
    assert row["creator"] == "alice" and row["editor"] == "alice"
    proj.update_annotations([{"uuid": uuid, "geometry": box(1, 1, 6, 6), "description": "moved", "meta": {"grade": 3}}])
    row = proj.annotations(uuids=[uuid]).iloc[0]
    assert row["geometry"].equals_exact(box(1, 1, 6, 6), 0)
    assert (row["description"], row["meta"], row["score"], row["source"]) == ("moved", {"grade": 3}, 0.9, "model-a v1")
    assert row["xmin"] == 1 and row["ymax"] == 6
    # changing the type re-validates the geometry against the new template
    with pytest.raises(InvalidGeometryError):
        proj.update_annotations([{"uuid": uuid, "type": "ln"}])
    with pytest.raises(UnknownAnnotationError):
        proj.update_annotations([{"uuid": "00000000-0000-4000-8000-000000000001", "score": 1.0}])


def test_soft_delete_and_undelete(proj):
    uuids = proj.add_annotations([{"image_id": proj.image_id, "type": "pt", "geometry": Point(i, i)} for i in range(3)])
    proj.delete_annotations(uuids[:2])
    assert proj.annotations()["uuid"].tolist() == [uuids[2]]
    everything = proj.annotations(include_deleted=True).set_index("uuid")
    assert everything.loc[uuids[0], "deleted"] and not everything.loc[uuids[2], "deleted"]
    proj.undelete_annotations([uuids[0]])
    assert set(proj.annotations()["uuid"]) == {uuids[0], uuids[2]}


def test_queries_by_image_set_type_user_bbox_frame(proj, small_svs, tmp_path):
    import exact_lab as xl

    other = int(proj.add_images([small_svs], image_set="second")["image_id"].iloc[0])
    proj.add_annotations([
        {"image_id": proj.image_id, "type": "box", "geometry": box(0, 0, 10, 10)},
        {"image_id": proj.image_id, "type": "pt", "geometry": Point(500, 500), "frame": 2},
        {"image_id": other, "type": "box", "geometry": box(400, 400, 420, 420)},
    ])
    bob = xl.open_project(proj.location, user="bob")
    bob.add_annotations([{"image_id": other, "type": "pt", "geometry": Point(405, 405)}])
    assert len(proj.annotations(image=proj.image_id)) == 2
    assert len(proj.annotations(image_set="second")) == 2
    assert proj.annotations(types="pt")["type"].tolist() == ["pt", "pt"]
    assert len(proj.annotations(types=["pt", "box"])) == 4
    assert proj.annotations(user="bob")["creator"].tolist() == ["bob"]
    assert len(proj.annotations(bbox=(390, 390, 410, 410))) == 2
    assert len(proj.annotations(image=other, bbox=(390, 390, 410, 410))) == 2
    assert len(proj.annotations(frame=2)) == 1
    assert proj.count_annotations(image=other) == 2
    rel = proj.annotations(image=other, as_relation=True)
    assert isinstance(rel, duckdb.DuckDBPyRelation)
    assert rel.aggregate("count(*)").fetchone()[0] == 2
    assert proj.sql("SELECT count(*) FROM annotations").fetchone()[0] == 4
    bob.close()
