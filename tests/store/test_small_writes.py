"""The single-row write path: small transactions on one DuckDB thread, rows bound as parameters,
rows checked before the writer's turn."""

from __future__ import annotations

import pandas as pd
import pytest
import shapely

from exact_lab.errors import InvalidValueError, UnknownTypeError
from exact_lab.store.annotations import PARAMETER_INSERT_ROWS


@pytest.fixture
def proj(project, small_svs):
    project.add_annotation_type("cell", "box")
    project.image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    return project


def _threads(con) -> int:
    return int(con.execute("SELECT current_setting('threads')").fetchone()[0])


def test_a_small_transaction_runs_on_one_thread_and_gives_the_threads_back(proj):
    store = proj._store
    default = _threads(store.con)
    if default < 2:
        pytest.skip("DuckDB runs on one thread here anyway")
    seen = {}
    store.run_transaction(lambda con: seen.setdefault("small", _threads(con)), small=True)
    store.run_transaction(lambda con: seen.setdefault("bulk", _threads(con)))
    assert seen == {"small": 1, "bulk": default}
    assert _threads(store.con) == default

    def fails(con):
        raise InvalidValueError("refused")

    with pytest.raises(InvalidValueError):
        store.run_transaction(fails, small=True)
    assert _threads(store.con) == default


def test_rows_bound_as_parameters_store_what_an_arrow_insert_stores(proj):
    row = {"image_id": proj.image_id, "type": "cell", "geometry": shapely.box(1.5, 2, 11, 12.25), "frame": 3,
           "score": 0.75, "description": "it's", "source": "model", "meta": {"k": [1, 2], "s": "ü"},
           "concealed": True, "blurred": False}
    few = proj.add_annotations([row])
    many = proj.add_annotations([dict(row, description=f"d{i}") for i in range(PARAMETER_INSERT_ROWS + 1)])
    stored = proj.annotations().set_index("uuid")
    one, other = stored.loc[few[0]], stored.loc[many[0]]
    for column in ("image_id", "type_id", "frame", "xmin", "ymin", "xmax", "ymax", "score", "source",
                   "concealed", "blurred", "deleted", "creator", "editor"):
        assert one[column] == other[column], column
    assert one["geometry"].equals(other["geometry"])
    assert one["meta"] == other["meta"] == {"k": [1, 2], "s": "ü"}
    assert one["description"] == "it's"
    assert isinstance(one["created_at"], pd.Timestamp)
    column_types = dict(proj.sql("SELECT column_name, data_type FROM information_schema.columns "
                                 "WHERE table_name = 'annotations'").fetchall())
    assert column_types["uuid"] == "UUID"


def test_a_bad_row_is_refused_before_the_turn_and_names_its_row(proj, monkeypatch):
    turns = []
    original = proj._store.turns.turn

    def counting(timeout):
        turns.append(timeout)
        return original(timeout)

    monkeypatch.setattr(proj._store.turns, "turn", counting)
    with pytest.raises(InvalidValueError, match="row 1"):
        proj.add_annotations([{"image_id": proj.image_id, "type": "cell", "geometry": shapely.box(0, 0, 5, 5)},
                              {"image_id": proj.image_id, "type": "cell", "geometry": shapely.box(0, 0, 5, 5), "frame": -1}])
    assert turns == []  # refused without queueing behind other writers
    proj.add_annotations({"image_id": proj.image_id, "type": "cell", "geometry": shapely.box(0, 0, 5, 5)})
    assert len(turns) == 1


def test_a_type_another_writer_just_added_is_found_in_the_transaction(proj, tmp_path):
    import exact_lab as xl

    proj.add_annotations({"image_id": proj.image_id, "type": "cell", "geometry": shapely.box(0, 0, 5, 5)})
    other = xl.open_project(tmp_path / "project", user="bob")
    try:
        other.add_annotation_type("nucleus", "box")
    finally:
        other.close()
    uuids = proj.add_annotations({"image_id": proj.image_id, "type": "nucleus", "geometry": shapely.box(0, 0, 5, 5)})
    assert proj.annotations().set_index("uuid").loc[uuids[0], "type"] == "nucleus"
    with pytest.raises(UnknownTypeError, match="row 0"):
        proj.add_annotations({"image_id": proj.image_id, "type": "nothing", "geometry": shapely.box(0, 0, 5, 5)})
