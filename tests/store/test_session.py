"""The buffered interactive edit session."""

from __future__ import annotations

import time

import pytest
from shapely.geometry import Point, box

from exact_lab.errors import InvalidGeometryError, UnknownAnnotationError, UnknownTypeError


@pytest.fixture
def proj(project, small_svs):
    project.add_annotation_type("cell", "point")
    project.add_annotation_type("mitosis", "box")
    project.image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    return project


def test_edits_are_batched_and_committed_within_about_a_second(proj):
    snapshots = len(proj.snapshots())
    uuids = [proj.session.add({"image_id": proj.image_id, "type": "cell", "geometry": Point(i, i)})[0] for i in range(20)]
    proj.session.update(uuids[0], geometry=Point(100, 100))
    proj.session.delete([uuids[1]])
    assert proj.session.pending > 0  # queued, not yet written
    deadline = time.monotonic() + 5
    while proj.session.pending and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proj.session.pending == 0
    # read straight from the store (no flush) to see what the timer committed
    count = proj._store.fetchall("SELECT count(*) FROM annotations WHERE NOT deleted")[0][0]
    assert count == 19
    # a few batches, not 22 commits (the first edit of a quiet spell goes out alone after 0.2 s)
    assert len(proj.snapshots()) - snapshots <= 5
    stored = proj.annotations(include_deleted=True).set_index("uuid")
    assert stored.loc[uuids[0], "geometry"].equals_exact(Point(100, 100), 0)
    assert stored.loc[uuids[1], "deleted"]


def test_flush_commits_now_and_change_listeners_hear_it(proj):
    heard = []
    proj.on_change(heard.append)
    proj.session.interval = 60
    uuid = proj.session.add({"image_id": proj.image_id, "type": "mitosis", "geometry": box(0, 0, 5, 5)})[0]
    assert proj._store.fetchall("SELECT count(*) FROM annotations")[0][0] == 0
    assert proj.flush() == 1
    assert proj._store.fetchall("SELECT count(*) FROM annotations")[0][0] == 1
    assert heard and heard[-1]["uuids"] == [uuid] and heard[-1]["image_ids"] == {proj.image_id}
    proj.session.update(uuid, geometry=box(1, 1, 6, 6))
    proj.flush()
    assert heard[-1]["uuids"] == [uuid]


def test_bad_edits_are_refused_at_once_not_queued(proj):
    with pytest.raises(InvalidGeometryError):
        proj.session.add({"image_id": proj.image_id, "type": "mitosis", "geometry": Point(1, 1)})
    assert proj.session.pending == 0


def test_a_failed_commit_keeps_the_edits_queued(proj, monkeypatch):
    proj.session.interval = 60
    uuid = proj.session.add({"image_id": proj.image_id, "type": "cell", "geometry": Point(1, 1)})[0]
    original = proj._write

    def broken(work, message, **options):
        raise RuntimeError("disk full")

    monkeypatch.setattr(proj, "_write", broken)
    with pytest.raises(RuntimeError):
        proj.flush()
    assert proj.session.pending == 1
    monkeypatch.setattr(proj, "_write", original)
    proj.flush()
    assert proj.annotations()["uuid"].tolist() == [uuid]


def test_changes_since_for_other_kernels(proj):
    start = proj._store.current_snapshot()
    uuid = proj.add_annotations([{"image_id": proj.image_id, "type": "cell", "geometry": Point(3, 3)}])[0]
    proj.delete_annotations([uuid])
    snapshot, changed = proj.changes_since(start)
    assert snapshot > start
    assert changed["uuid"].tolist() == [uuid] and changed["deleted"].iloc[0]
    again, nothing = proj.changes_since(snapshot)
    assert again == snapshot and nothing.empty


def test_an_update_is_checked_when_it_is_queued(proj):
    proj.session.interval = 60
    stored = proj.add_annotations([{"image_id": proj.image_id, "type": "mitosis", "geometry": box(0, 0, 5, 5)}])[0]
    queued = proj.session.add({"image_id": proj.image_id, "type": "mitosis", "geometry": box(0, 0, 5, 5)})[0]
    for uuid in (stored, queued):  # a point does not fit a box type, whether stored or still queued
        with pytest.raises(InvalidGeometryError):
            proj.session.update(uuid, geometry=Point(1, 1))
    with pytest.raises(UnknownAnnotationError):
        proj.session.update("00000000-0000-4000-8000-000000000000", geometry=box(1, 1, 2, 2))
    proj.session.update(stored, type="cell", geometry=Point(2, 2))  # a new type with a fitting shape
    assert proj.session.pending == 2 and proj.flush() == 2
    assert proj.annotations(uuids=[stored])["type"].iat[0] == "cell"


def test_is_pending_names_the_annotations_with_queued_edits(proj):
    proj.session.interval = 60
    added = proj.session.add({"image_id": proj.image_id, "type": "cell", "geometry": Point(1, 1)})[0]
    stored = proj.add_annotations([{"image_id": proj.image_id, "type": "cell", "geometry": Point(2, 2)}])[0]
    assert proj.session.is_pending(added) is False  # add_annotations flushed the queue first
    proj.session.update(stored, geometry=Point(3, 3))
    assert proj.session.is_pending(stored) and not proj.session.is_pending(added)
    proj.flush()
    assert not proj.session.is_pending(stored)


def test_type_ids_of_any_integer_kind_but_not_fractions(proj):
    import numpy as np

    cell = proj._type_ids(["cell"])["cell"]
    assert proj._type_ids([np.int64(cell)]) == {np.int64(cell): cell}
    assert proj._type_ids([np.int32(cell)])[np.int32(cell)] == cell
    with pytest.raises(UnknownTypeError):
        proj._type_ids([cell + 0.5])
