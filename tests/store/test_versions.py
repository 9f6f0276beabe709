"""diff, history, restore and time travel, compared with exact before/after geometry."""

from __future__ import annotations

import pandas as pd
import pytest
from shapely.geometry import Point, Polygon, box

from exact_lab.errors import UnknownAnnotationError, UnknownVersionError, VersionExistsError


@pytest.fixture
def seeded(project, small_svs):
    project.add_annotation_type("mitosis", "box")
    project.add_annotation_type("cell", "point")
    project.add_annotation_type("region", "polygon")
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    rows = pd.DataFrame({
        "image_id": image_id,
        "type": ["mitosis", "mitosis", "cell", "region"],
        "geometry": [box(10, 10, 50, 50), box(100, 100, 130, 140), Point(5, 7),
                     Polygon([(0, 0), (300, 0), (300, 200), (0, 250)])],
    })
    uuids = project.add_annotations(rows)
    project.commit("v1", message="first")
    return project, image_id, dict(zip(["m1", "m2", "cell", "region"], uuids))


def _geom(frame, uuid):
    return frame.set_index("uuid").loc[uuid, "geometry"]


def test_diff_reports_added_removed_changed_with_exact_geometry(seeded):
    proj, image_id, u = seeded
    moved = box(12, 14, 52, 54)
    proj.update_annotations([{"uuid": u["m1"], "geometry": moved}])
    proj.delete_annotations([u["cell"]])
    new = proj.add_annotations([{"image_id": image_id, "type": "cell", "geometry": Point(40.5, 41.25)}])[0]
    proj.update_annotations([{"uuid": u["m2"], "type": "region"}])  # type change counts as a change
    proj.commit("v2")

    diff = proj.diff("v1", "v2").set_index("uuid")
    assert diff.loc[u["m1"], "change"] == "changed"
    assert diff.loc[u["m1"], "before"].equals_exact(box(10, 10, 50, 50), 0)
    assert diff.loc[u["m1"], "after"].equals_exact(moved, 0)
    assert diff.loc[u["cell"], "change"] == "removed"
    assert diff.loc[u["cell"], "before"].equals_exact(Point(5, 7), 0)
    assert diff.loc[u["cell"], "after"] is None
    assert diff.loc[new, "change"] == "added"
    assert diff.loc[new, "after"].equals_exact(Point(40.5, 41.25), 0)
    assert (diff.loc[u["m2"], ["type_before", "type_after"]] == ["mitosis", "region"]).all()
    assert u["region"] not in diff.index  # untouched
    assert len(diff) == 4

    # the other direction swaps the roles
    back = proj.diff("v2", "v1").set_index("uuid")
    assert back.loc[new, "change"] == "removed"
    assert back.loc[u["cell"], "change"] == "added"
    assert back.loc[u["m1"], "after"].equals_exact(box(10, 10, 50, 50), 0)


def test_changed_and_changed_back_is_no_difference(seeded):
    proj, _, u = seeded
    proj.update_annotations([{"uuid": u["m1"], "geometry": box(0, 0, 5, 5)}])
    proj.update_annotations([{"uuid": u["m1"], "geometry": box(10, 10, 50, 50)}])
    proj.commit("v2")
    assert proj.diff("v1", "v2").empty
    # but the history keeps every state
    states = proj.history(u["m1"])["geometry"].tolist()
    assert [g.bounds for g in states] == [(10, 10, 50, 50), (0, 0, 5, 5), (10, 10, 50, 50)]


def test_diff_against_now_sees_uncommitted_work(seeded):
    proj, _, u = seeded
    proj.session.update(u["m2"], geometry=box(1, 2, 3, 4))
    diff = proj.diff("v1")  # flushes the session first
    assert diff["uuid"].tolist() == [u["m2"]]
    assert diff["after"].iloc[0].equals_exact(box(1, 2, 3, 4), 0)


def test_history_lists_every_state_with_editor_and_time(seeded, tmp_path):
    import exact_lab as xl

    proj, _, u = seeded
    bob = xl.open_project(proj.location, user="bob")
    bob.update_annotations([{"uuid": u["region"], "geometry": Polygon([(0, 0), (310, 0), (310, 200)])}])
    bob.delete_annotations(u["region"])
    proj.undelete_annotations(u["region"])
    history = proj.history(u["region"])
    assert history["change"].tolist() == ["created", "updated", "deleted", "undeleted"]
    assert history["editor"].tolist() == ["alice", "bob", "bob", "alice"]
    assert history["geometry"].iloc[0].equals_exact(Polygon([(0, 0), (300, 0), (300, 200), (0, 250)]), 0)
    assert history["geometry"].iloc[1].equals_exact(Polygon([(0, 0), (310, 0), (310, 200)]), 0)
    assert history["snapshot_id"].is_monotonic_increasing
    assert history["updated_at"].is_monotonic_increasing
    bob.close()


def test_time_travel_reads_each_version_exactly(seeded):
    proj, image_id, u = seeded
    proj.update_annotations([{"uuid": u["m1"], "geometry": box(20, 20, 60, 60)}])
    proj.commit("v2")
    proj.delete_annotations([u["m1"]])
    proj.commit("v3")

    at1 = proj.annotations(version="v1")
    at2 = proj.annotations(version="v2")
    at3 = proj.annotations(version="v3")
    assert _geom(at1, u["m1"]).equals_exact(box(10, 10, 50, 50), 0)
    assert _geom(at2, u["m1"]).equals_exact(box(20, 20, 60, 60), 0)
    assert u["m1"] not in set(at3["uuid"])
    assert len(at1) == len(at2) == 4 and len(at3) == 3
    # bbox queries work on old versions too
    assert set(proj.annotations(version="v1", bbox=(0, 0, 60, 60))["uuid"]) == {u["m1"], u["cell"], u["region"]}
    assert set(proj.annotations(version="v2", bbox=(55, 55, 58, 58))["uuid"]) == {u["m1"], u["region"]}
    # a snapshot id works as a version
    snap = int(proj.versions().set_index("name").loc["v1", "snapshot_id"])
    assert set(proj.annotations(version=snap)["uuid"]) == set(at1["uuid"])


def test_restore_makes_a_new_snapshot_equal_to_the_old_state(seeded):
    proj, image_id, u = seeded
    before = proj.annotations().set_index("uuid")
    proj.update_annotations([{"uuid": u["m1"], "geometry": box(0, 0, 1, 1), "type": "region"}])
    proj.delete_annotations([u["cell"]])
    extra = proj.add_annotations([{"image_id": image_id, "type": "cell", "geometry": Point(1, 1)}])[0]
    proj.commit("v2")
    snapshots_before = len(proj.snapshots())

    changed = proj.restore("v1")
    assert changed == 3
    after = proj.annotations().set_index("uuid")
    assert set(after.index) == set(before.index)
    for uuid in before.index:
        assert after.loc[uuid, "geometry"].equals_exact(before.loc[uuid, "geometry"], 0)
        assert after.loc[uuid, "type"] == before.loc[uuid, "type"]
    assert proj.diff("v1").empty
    # history is kept: v2 still reads as it was, and the restore is a new snapshot
    assert extra in set(proj.annotations(version="v2")["uuid"])
    assert len(proj.snapshots()) == snapshots_before + 1
    assert proj.history(u["m1"])["change"].tolist() == ["created", "updated", "updated"]
    assert proj.annotations(include_deleted=True).set_index("uuid").loc[extra, "deleted"]


def test_version_errors(seeded):
    proj, _, u = seeded
    with pytest.raises(VersionExistsError, match="v1"):
        proj.commit("v1")
    with pytest.raises(UnknownVersionError, match="nope"):
        proj.annotations(version="nope")
    with pytest.raises(UnknownVersionError):
        proj.diff("v1", "nope")
    with pytest.raises(UnknownAnnotationError):
        proj.history("00000000-0000-4000-8000-000000000000")
    versions = proj.versions()
    assert versions["name"].tolist() == ["v1"]
    assert versions["message"].iloc[0] == "first" and versions["author"].iloc[0] == "alice"
    assert versions["images"].iloc[0] == 1


def test_artifacts_attach_files_to_versions(seeded, tmp_path):
    proj, _, _ = seeded
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"f1": 0.81}')
    record = proj.add_artifact("v1", metrics, meta={"kind": "metrics"})
    listed = proj.artifacts("v1")
    assert listed["name"].tolist() == ["metrics.json"]
    assert listed["meta"].iloc[0] == {"kind": "metrics"}
    stored = proj.artifact_path("v1", "metrics.json")
    assert stored.read_text() == '{"f1": 0.81}' and stored != metrics
    assert record["size"] == metrics.stat().st_size
    assert proj.versions()["artifacts"].iloc[0] == 1
    with pytest.raises(UnknownVersionError):
        proj.add_artifact("nope", metrics)


def test_maintenance_keeps_versions_and_history_readable(seeded):
    proj, image_id, u = seeded
    for step in range(1, 6):  # small interactive commits: inlined into the catalog
        proj.update_annotations([{"uuid": u["m1"], "geometry": box(10 + step, 10, 50 + step, 50)}])
    proj.commit("v2")
    bulk = pd.DataFrame({"image_id": image_id, "type": "mitosis",
                         "xmin": range(0, 30000, 10), "ymin": 5.0, "xmax": range(5, 30005, 10), "ymax": 9.0})
    proj.add_annotations(bulk)
    proj.commit("v3")
    before = {v: proj.annotations(version=v).set_index("uuid") for v in ("v1", "v2", "v3")}
    history = proj.history(u["m1"])

    proj.maintain()

    for version, frame in before.items():
        after = proj.annotations(version=version).set_index("uuid")
        assert set(after.index) == set(frame.index), version
        assert after.loc[u["m1"], "geometry"].equals_exact(frame.loc[u["m1"], "geometry"], 0)
    again = proj.history(u["m1"])
    assert [g.bounds for g in again["geometry"]] == [g.bounds for g in history["geometry"]]
    assert len(proj.diff("v1", "v3")) == 1 + len(bulk)
