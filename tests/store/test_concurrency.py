"""Several processes write to one project at once; every edit must be there afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

WRITERS = 4
ROUNDS = 12
PER_ROUND = 50  # 4 x 12 x 50 = 2,400 inserts plus 48 updates, in ~100 concurrent commits


def _prepare(location, data, small_svs):
    import exact_lab as xl

    proj = xl.open_project(location, data=data, user="setup")
    proj.add_annotation_type("cell", "box")
    image_id = int(proj.add_images([small_svs])["image_id"].iloc[0])
    proj.close()
    return image_id


def _run_writers(location, data, image_id, tmp_path):
    script = Path(__file__).with_name("writer_process.py")
    outs, procs = [], []
    for k in range(WRITERS):
        out = tmp_path / f"writer{k}.json"
        outs.append(out)
        procs.append(subprocess.Popen(
            [sys.executable, str(script), str(location), data or "", f"user{k}", str(image_id),
             str(ROUNDS), str(PER_ROUND), str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]
    return {f"user{k}": json.loads(out.read_text()) for k, out in enumerate(outs)}


def _assert_every_edit_stored(location, data, made):
    import exact_lab as xl

    proj = xl.open_project(location, data=data, user="checker")
    stored = proj.annotations()
    assert len(stored) == WRITERS * ROUNDS * PER_ROUND
    by_uuid = stored.set_index("uuid")
    for user, uuids in made.items():
        assert len(uuids) == ROUNDS * PER_ROUND
        assert set(uuids) <= set(by_uuid.index), f"edits of {user} are missing"
        mine = by_uuid.loc[uuids]
        assert (mine["creator"] == user).all()
        moved = mine[mine["description"].str.endswith("moved")]
        assert len(moved) == ROUNDS  # every update survived, none was dropped
        for _uuid, row in moved.iterrows():
            r = int(row["description"].split("-")[1])
            assert row["geometry"].bounds == (100 * r, 0, 100 * r + 5, 5)
    # every commit is a snapshot, and they interleave: the writers really ran at once
    authors = [a for a in proj.snapshots()["author"] if isinstance(a, str) and a.startswith("user")]
    switches = sum(1 for a, b in zip(authors, authors[1:]) if a != b)
    assert switches >= WRITERS
    proj.close()


@pytest.mark.slow
def test_four_processes_write_to_one_embedded_project(tmp_path, small_svs):
    location = tmp_path / "shared-project"
    image_id = _prepare(location, None, small_svs)
    made = _run_writers(location, None, image_id, tmp_path)
    _assert_every_edit_stored(location, None, made)


@pytest.mark.slow
@pytest.mark.postgres
def test_four_processes_write_to_one_team_project(tmp_path, small_svs, team_catalog):
    location, data = team_catalog
    image_id = _prepare(location, data, small_svs)
    made = _run_writers(location, data, image_id, tmp_path)
    _assert_every_edit_stored(location, data, made)


# -- many single-row commits (issue 9: writers starved each other and rows were lost) ----------
SINGLE_ROWS = 250  # the script: four writers, 250 single-row calls each
EIGHT_WRITERS_ROWS = 60  # more writers than cores, as many turns as they need to interleave: 480 commits
MOVE_EVERY = 25  # 10 updates per writer (2 with 60 rows), through the session


def _run_single_row_writers(location, data, image_id, tmp_path, writers, rows, meanwhile=None):
    """``meanwhile()`` (if given) is called again and again in this process until the writers end."""
    script = Path(__file__).with_name("writer_process.py")
    procs, outs = [], []
    for k in range(writers):
        out = tmp_path / f"single{k}.json"
        outs.append(out)
        procs.append(subprocess.Popen(
            [sys.executable, str(script), "single", str(location), data or "", f"user{k}", str(image_id),
             str(rows), str(MOVE_EVERY), str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    calls = 0
    while meanwhile is not None and any(proc.poll() is None for proc in procs):
        meanwhile()
        calls += 1
    if meanwhile is not None:
        assert calls >= 2, "the writers ended before the work meant to run beside them"
    for proc in procs:
        _, err = proc.communicate(timeout=3000)
        assert proc.returncode == 0, err[-3000:]  # no call failed: any raise ends the writer
        assert "could not be committed" not in err
    return {f"user{k}": json.loads(out.read_text()) for k, out in enumerate(outs)}


def _assert_single_rows_stored(location, data, made, writers, rows):
    import exact_lab as xl

    proj = xl.open_project(location, data=data, user="checker")
    by_uuid = proj.annotations().set_index("uuid")
    assert len(by_uuid) == writers * rows
    for user, result in made.items():
        assert len(result["made"]) == rows
        assert set(result["made"]) <= set(by_uuid.index), f"rows of {user} are missing"
        assert (by_uuid.loc[result["made"], "creator"] == user).all()
        assert len(result["moved"]) == rows // MOVE_EVERY
        for uuid, i in result["moved"].items():
            row = by_uuid.loc[uuid]
            assert row["description"] == f"{user}-{i}-moved"
            assert row["geometry"].bounds == (i, 50, i + 7, 57)
    authors = [a for a in proj.snapshots()["author"] if isinstance(a, str) and a.startswith("user")]
    # one snapshot per call and one per flushed session batch, at least
    assert len(authors) >= writers * rows
    assert sum(1 for a, b in zip(authors, authors[1:]) if a != b) >= writers
    proj.close()


def _single_row_case(tmp_path, small_svs, writers, location, data, rows=SINGLE_ROWS):
    image_id = _prepare(location, data, small_svs)
    made = _run_single_row_writers(location, data, image_id, tmp_path, writers, rows)
    _assert_single_rows_stored(location, data, made, writers, rows)


# 1,000 commits one after another: ~60 s on a quiet 2-core machine, 8-10 min under a load of 20
@pytest.mark.timeout(900)
def test_four_single_row_writers_embedded(tmp_path, small_svs):
    _single_row_case(tmp_path, small_svs, 4, tmp_path / "p", None)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_eight_single_row_writers_embedded(tmp_path, small_svs):
    _single_row_case(tmp_path, small_svs, 8, tmp_path / "p", None, rows=EIGHT_WRITERS_ROWS)


@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_four_single_row_writers_team(tmp_path, small_svs, team_catalog):
    _single_row_case(tmp_path, small_svs, 4, *team_catalog)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_eight_single_row_writers_team(tmp_path, small_svs, team_catalog):
    _single_row_case(tmp_path, small_svs, 8, *team_catalog, rows=EIGHT_WRITERS_ROWS)


@pytest.mark.timeout(600)
def test_maintenance_beside_single_row_writers(tmp_path, small_svs):
    """maintain() (flush inlined rows to Parquet, merge files) commits in its own turn: run again and
    again beside two single-row writers, it makes no writer fail and loses no row or update."""
    import time

    import exact_lab as xl

    location = tmp_path / "p"
    image_id = _prepare(location, None, small_svs)
    admin = xl.open_project(location, user="admin")

    def maintain():
        admin.maintain()
        time.sleep(0.2)

    made = _run_single_row_writers(location, None, image_id, tmp_path, 2, 100, meanwhile=maintain)
    admin.close()
    _assert_single_rows_stored(location, None, made, 2, 100)
    files = list((location / "data").rglob("*.parquet"))
    assert files, "maintenance never moved the inlined rows into Parquet files"
