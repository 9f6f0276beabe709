"""The annotation query builder, and that every reader takes its query from one place."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from exact_lab.errors import InvalidValueError, UnknownAnnotationError
from exact_lab.store.annotations import AnnotationsMixin
from exact_lab.store.query import AnnotationQuery


def test_terms_and_parameters_stay_together_in_any_order():
    query = AnnotationQuery()
    query.where("a.frame = ?", 3).where("NOT a.deleted").where("a.max_x >= ? AND a.min_x <= ?", 1.0, 2.0)
    sql, params = query.select("a.uuid")
    assert sql == ("SELECT a.uuid FROM annotations AS a "
                   "WHERE (a.frame = ?) AND (NOT a.deleted) AND (a.max_x >= ? AND a.min_x <= ?)")
    assert params == [3, 1.0, 2.0]


def test_no_terms_no_where_and_a_snapshot_reads_the_version():
    sql, params = AnnotationQuery(snapshot=7).count()
    assert sql == "SELECT count(*) FROM annotations AS a AT (VERSION => 7)"
    assert params == []
    named, _ = AnnotationQuery(snapshot=7).select_named()
    assert "annotation_types AS t AT (VERSION => 7)" in named and "images AS i AT (VERSION => 7)" in named


def test_a_term_whose_placeholders_do_not_match_its_parameters_is_refused():
    with pytest.raises(InvalidValueError, match="2 placeholders but 1 parameters"):
        AnnotationQuery().where("a.frame = ? OR a.frame = ?", 1)


@pytest.fixture
def proj(project, small_svs):
    project.add_annotation_type("box", "box")
    project.image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    return project


def test_one_predicate_in_annotation_query_holds_for_every_reader(proj, monkeypatch, tmp_path):
    """What the blind-review filter relies on: a term added in annotation_query() hides a row from
    annotations(), the viewport, versions, relations, counts, changes_since, diff, history, export."""
    first = proj._store.current_snapshot()
    proj.commit("empty")
    shown, hidden = proj.add_annotations([
        {"image_id": proj.image_id, "type": "box", "geometry": box(0, 0, 10, 10), "source": "seen"},
        {"image_id": proj.image_id, "type": "box", "geometry": box(5, 5, 20, 20), "source": "secret"},
    ])
    proj.commit("both")
    original = AnnotationsMixin.annotation_query

    def hiding(self, **filters):
        return original(self, **filters).where("a.source IS DISTINCT FROM ?", "secret")

    before = {
        "all": set(proj.annotations()["uuid"]),
        "viewport": set(proj.annotations(image=proj.image_id, bbox=(0, 0, 100, 100))["uuid"]),
        "version": set(proj.annotations(version="both")["uuid"]),
    }
    assert before["all"] == before["viewport"] == before["version"] == {shown, hidden}
    monkeypatch.setattr(AnnotationsMixin, "annotation_query", hiding)

    assert set(proj.annotations()["uuid"]) == {shown}
    assert set(proj.annotations(image=proj.image_id, bbox=(0, 0, 100, 100))["uuid"]) == {shown}
    assert set(proj.annotations(version="both")["uuid"]) == {shown}
    assert set(proj.annotations(as_relation=True).df()["uuid"]) == {shown}
    assert proj.count_annotations() == 1
    _, changed = proj.changes_since(first)
    assert set(changed["uuid"]) == {shown}
    assert set(proj.diff("empty", "both")["uuid"]) == {shown}
    assert len(proj.history(shown)) == 1
    with pytest.raises(UnknownAnnotationError):
        proj.history(hidden)
    report = proj.export_annotations(tmp_path / "out.json", "coco")
    assert report["exported"] == 1
