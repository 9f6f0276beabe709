"""The edit session's hook for other kinds of queued edits: committed in the same snapshot as
the annotation edits, put back when the commit fails."""

from __future__ import annotations

import pytest
import shapely


class Recorder:
    def __init__(self, fail_first=False):
        self.queued, self.written, self.done, self.fail = [], [], [], fail_first

    def take(self):
        out, self.queued = self.queued, []
        return out

    def write(self, con, batch):
        if self.fail:
            self.fail = False
            raise RuntimeError("disk full")
        con.execute("INSERT INTO project_info VALUES ('recorder', ?)", [",".join(batch)])
        self.written.append(list(batch))
        return len(batch)

    def put_back(self, batch):
        self.queued = batch + self.queued

    def committed(self, batch):
        self.done.append(list(batch))


def test_a_participant_commits_in_the_same_snapshot_as_annotation_edits(project, small_svs):
    project.add_annotation_type("cell", "box")
    image_id = int(project.add_images([small_svs])["image_id"].iloc[0])
    rec = Recorder()
    project.session.add_participant(rec)
    before = project._store.current_snapshot()
    project.session.add([{"image_id": image_id, "type": "cell", "geometry": shapely.box(0, 0, 5, 5)}])
    rec.queued += ["a", "b"]
    assert project.flush() == 3
    assert project._store.current_snapshot() == before + 1  # one snapshot for both
    assert rec.done == [["a", "b"]]
    assert project.sql("SELECT value FROM project_info WHERE key = 'recorder'").fetchall() == [("a,b",)]


def test_a_failed_participant_batch_is_put_back_and_written_later(project):
    rec = Recorder(fail_first=True)
    project.session.add_participant(rec)
    rec.queued.append("x")
    with pytest.raises(RuntimeError, match="disk full"):
        project.session.flush()
    assert rec.queued == ["x"] and rec.done == []
    assert project.session.flush() == 1
    assert rec.done == [["x"]]
