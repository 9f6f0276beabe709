"""Bad input on every write path is refused with the project's own error naming the input row
(issue 9's findings, each reproduced), and refused input leaves the store unchanged."""

from __future__ import annotations

import logging
import uuid as uuidlib

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from exact_lab.errors import (
    EditRefusedError,
    ExactLabError,
    InvalidGeometryError,
    InvalidValueError,
    UnknownAnnotationError,
    UnknownImageError,
    UnknownTypeError,
)


@pytest.fixture
def proj(project, small_svs):
    project.add_annotation_type("cell", "box")
    project.add_annotation_type("tumor", "polygon")
    project.image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    return project


def stored(proj) -> int:
    return int(proj._store.fetchall("SELECT count(*) FROM annotations")[0][0])


def boxes(proj, n: int) -> pd.DataFrame:
    x = np.arange(n, dtype=np.float64)
    return pd.DataFrame({"image_id": proj.image_id, "type": "cell", "xmin": x, "ymin": x[::-1].copy(),
                         "xmax": x + 5, "ymax": x[::-1] + 5})


# -- the edit session: one bad edit never takes the good ones down -----------------------------
def test_an_update_of_an_unknown_uuid_is_refused_when_queued_and_the_good_add_is_stored(proj, caplog):
    with pytest.raises(UnknownAnnotationError, match="no annotation"):
        proj.session.update(str(uuidlib.uuid4()), geometry=box(0, 0, 5, 5))
    with pytest.raises(UnknownAnnotationError):
        proj.session.update(str(uuidlib.uuid4()), description="no geometry given either")
    good = proj.session.add({"image_id": proj.image_id, "type": "cell", "geometry": box(1, 1, 9, 9)})[0]
    assert proj.session.flush() == 1
    assert list(proj.annotations()["uuid"]) == [good]
    with caplog.at_level(logging.ERROR):
        proj.session._flush_quietly()
    assert "could not be committed" not in caplog.text


def test_an_edit_refused_at_commit_is_refused_alone_and_the_others_are_committed(proj):
    proj.session.interval = 60  # committed by the flush below, not by the timer (under load the DELETE took longer)
    a, b = proj.add_annotations([{"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 5, 5)},
                                 {"image_id": proj.image_id, "type": "cell", "geometry": box(9, 9, 15, 15)}])
    proj.session.update(a, description="kept")
    proj.session.update(b, description="lost")
    # Another writer takes b's uuid away for good after the edit was queued (what a bad queued
    # edit looks like at commit time).
    proj._store.run_transaction(lambda con: con.execute("DELETE FROM annotations WHERE uuid = ?::UUID", [b]))
    good = proj.session.add({"image_id": proj.image_id, "type": "cell", "geometry": box(20, 20, 30, 30)})[0]
    with pytest.raises(EditRefusedError, match=f"update of {b}"):
        proj.session.flush()
    rows = proj.annotations().set_index("uuid")
    assert rows.loc[a, "description"] == "kept" and good in rows.index
    assert proj.session.pending == 0 and [what for what, _ in proj.session.refused] == [f"update of {b}"]
    assert proj.session.flush() == 0  # the refused edit is not retried forever


def test_session_updates_with_values_of_the_wrong_kind_are_refused_when_queued(proj):
    uuid = proj.add_annotations({"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 5, 5)})[0]
    for fields, column in [({"frame": "two"}, "frame"), ({"frame": -1}, "frame"), ({"score": "high"}, "score"),
                           ({"concealed": "yes"}, "concealed"), ({"meta": {"a": {1, 2}}}, "meta"),
                           ({"description": 5}, "description"), ({"type": 2.5}, "type")]:
        with pytest.raises(InvalidValueError, match=column):
            proj.session.update(uuid, **fields)
    assert proj.session.pending == 0


# -- missing and fractional types, rows named by input position --------------------------------
@pytest.mark.parametrize("missing", [None, np.nan])
def test_a_missing_type_in_a_multi_row_frame_is_refused_naming_the_row(proj, missing):
    frame = boxes(proj, 3).astype({"type": object})
    frame.loc[1, "type"] = missing
    with pytest.raises(InvalidValueError, match="row 1: type is missing"):
        proj.add_annotations(frame)
    assert stored(proj) == 0


def test_a_single_row_without_a_type_is_an_error_of_ours_not_an_index_error(proj):
    with pytest.raises(InvalidValueError, match="row 0: type is missing"):
        proj.add_annotations({"image_id": proj.image_id, "type": None, "geometry": box(0, 0, 5, 5)})


@pytest.mark.parametrize("column, value, error, message", [
    ("ymax", np.nan, InvalidGeometryError, "needs finite xmin < xmax"),
    ("xmax", -50.0, InvalidGeometryError, "needs finite xmin < xmax"),
    ("type", "no-such-type", UnknownTypeError, "unknown annotation type 'no-such-type'"),
    ("type", None, InvalidValueError, "type is missing"),
    ("image_id", 999, UnknownImageError, "no image 999"),
    ("image_id", 1.7, InvalidValueError, "image_id must be a whole number"),
    ("uuid", "not-a-uuid", InvalidValueError, "'not-a-uuid' is not a uuid"),
    ("xmin", "left", InvalidValueError, "xmin must be a number"),
    ("frame", -1, InvalidValueError, "frame must be >= 0"),
    ("xmax", 1e308, InvalidGeometryError, "within"),
])
def test_errors_name_the_input_row_in_a_200000_row_frame(proj, column, value, error, message):
    n = 200_000
    frame = boxes(proj, n)
    if column not in frame.columns:
        frame[column] = None if column == "uuid" else 0
    frame[column] = frame[column].astype(object)
    frame.loc[n - 1, column] = value
    with pytest.raises(error, match=f"row {n - 1}: .*{message}" if message else f"row {n - 1}"):
        proj.add_annotations(frame)
    assert stored(proj) == 0


# -- uuids ------------------------------------------------------------------------------------
def test_a_uuid_already_in_the_project_is_refused(proj):
    uuid = proj.add_annotations({"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 5, 5)})[0]
    rows = [{"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 9, 9)},
            {"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 5, 5), "uuid": uuid}]
    with pytest.raises(InvalidValueError, match=f"row 1: uuid {uuid} is already in the project"):
        proj.add_annotations(rows)
    assert stored(proj) == 1


def test_the_same_uuid_twice_in_one_call_is_refused(proj):
    uuid = str(uuidlib.uuid4())
    rows = [{"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 5, 5), "uuid": uuid},
            {"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 9, 9), "uuid": None},
            {"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 7, 7), "uuid": uuid.upper()}]
    with pytest.raises(InvalidValueError, match=r"given twice \(rows 0 and 2\)"):
        proj.add_annotations(rows)
    assert stored(proj) == 0


# -- raw exceptions become ours ---------------------------------------------------------------
@pytest.mark.parametrize("extra, message", [
    ({"frame": "first"}, "row 1: frame must be a number"),
    ({"frame": 1.5}, "row 1: frame must be a whole number"),
    ({"score": "high"}, "row 1: score must be a number"),
    ({"score": float("inf")}, "row 1: score must be a finite number"),
    ({"concealed": "yes"}, "row 1: concealed must be True or False"),
    ({"blurred": 7}, "row 1: blurred must be True or False"),
    ({"meta": {"when": object()}}, "row 1: meta must be"),
    ({"meta": "{not json"}, "row 1: meta must be"),
    ({"meta": {"x": float("nan")}}, "row 1: meta must be"),
    ({"description": 12}, "row 1: description must be text"),
    ({"type_id": 2.5}, "row 1: type_id 2.5 is neither a type name nor a whole type id"),
])
def test_values_of_the_wrong_kind_are_refused_naming_column_and_row(proj, extra, message):
    rows = pd.DataFrame([{"image_id": proj.image_id, "type_id": 1, "geometry": box(0, 0, 5, 5)},
                         {"image_id": proj.image_id, "type_id": 1, "geometry": box(0, 0, 5, 5), **extra}])
    if "type_id" in extra:
        rows = rows.astype({"type_id": object})
    with pytest.raises(InvalidValueError, match=message):
        proj.add_annotations(rows)
    assert stored(proj) == 0


def test_a_box_column_of_text_is_refused_naming_column_and_row(proj):
    frame = boxes(proj, 3).astype({"ymin": object})
    frame.loc[2, "ymin"] = "top"
    with pytest.raises(InvalidValueError, match="row 2: ymin must be a number, got 'top'"):
        proj.add_annotations(frame)


def test_an_empty_frame_adds_nothing_and_returns_an_empty_list(proj):
    before = proj._store.current_snapshot()
    assert proj.add_annotations(pd.DataFrame()) == []
    assert proj.add_annotations([]) == []
    assert proj.session.add(pd.DataFrame(columns=["image_id", "type", "geometry"])) == []
    assert proj._store.current_snapshot() == before


@pytest.mark.parametrize("bbox", [("a", 0, 1, 1), (0, 0, 1), (0, 0, float("nan"), 1), (5, 5, 1, 1), 7])
def test_a_non_numeric_or_inverted_bbox_is_refused(proj, bbox):
    with pytest.raises(InvalidValueError, match="bbox="):
        proj.annotations(bbox=bbox)


def test_a_self_intersecting_polygon_with_area_is_refused(proj):
    bow_tie_with_area = Polygon([(0, 0), (20, 0), (20, 10), (10, -5), (0, 10)])
    assert bow_tie_with_area.area > 0 and not bow_tie_with_area.is_valid
    with pytest.raises(InvalidGeometryError, match="row 1: a 'polygon' annotation must not cross itself"):
        proj.add_annotations([{"image_id": proj.image_id, "type": "tumor", "geometry": box(0, 0, 3, 3)},
                              {"image_id": proj.image_id, "type": "tumor", "geometry": bow_tie_with_area}])


def test_coordinates_of_1e308_are_refused(proj):
    with pytest.raises(InvalidGeometryError, match="row 0: coordinates beyond"):
        proj.add_annotations({"image_id": proj.image_id, "type": "tumor",
                              "geometry": Polygon([(0, 0), (1e308, 0), (0, 1e308)])})


def test_updates_with_wrong_types_are_refused_and_change_nothing(proj):
    uuid = proj.add_annotations({"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 5, 5)})[0]
    before = proj._store.current_snapshot()
    for column, value, message in [("frame", "x", "row 0: frame must be a number"),
                                   ("score", "x", "row 0: score must be a number"),
                                   ("deleted", "no", "row 0: deleted must be True or False"),
                                   ("meta", "{bad", "row 0: meta must be"),
                                   ("source", 3, "row 0: source must be text")]:
        with pytest.raises(InvalidValueError, match=message):
            proj.update_annotations(pd.DataFrame({"uuid": [uuid], column: [value]}))
    with pytest.raises(InvalidValueError, match="row 1: 'nope' is not a uuid"):
        proj.update_annotations(pd.DataFrame({"uuid": [uuid, "nope"], "score": [0.5, 0.5]}))
    assert proj._store.current_snapshot() == before


def test_every_refusal_is_an_error_of_the_project(proj):
    """No raw ValueError / ArrowInvalid / TypeError / JSONDecodeError escapes a write."""
    bad_inputs = [
        {"image_id": "first", "type": "cell", "geometry": box(0, 0, 5, 5)},
        {"image_id": proj.image_id, "type": "cell", "xmin": "a", "ymin": 0, "xmax": 1, "ymax": 1},
        {"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 5, 5), "frame": [1]},
        {"image_id": proj.image_id, "type": "cell", "geometry": box(0, 0, 5, 5), "meta": b"\xff"},
        {"image_id": proj.image_id, "type": ["cell"], "geometry": box(0, 0, 5, 5)},
        {"image_id": proj.image_id, "type": True, "geometry": box(0, 0, 5, 5)},
    ]
    for row in bad_inputs:
        with pytest.raises(ExactLabError):
            proj.add_annotations(row)
    with pytest.raises(ExactLabError):
        proj.add_annotations(42)
    assert stored(proj) == 0
