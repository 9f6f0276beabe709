"""Damaged, moved and write-protected projects, and the catalog held by another process
(issue 9): each gives the project's own error naming the file, or simply works."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import shapely

import exact_lab as xl
from exact_lab.errors import CatalogDamagedError, ProjectLocationError
from exact_lab.store.connection import CATALOG_FILE, DATA_DIR, INLINING_ROW_LIMIT
from exact_lab.store.integrity import MARKER_FILE

BULK = INLINING_ROW_LIMIT + 500  # above the inlining limit: written as a Parquet file


def _project(location, small_svs, bulk=True):
    proj = xl.open_project(location, user="alice")
    proj.add_annotation_type("cell", "box")
    image_id = int(proj.add_images([small_svs])["image_id"].iloc[0])
    if bulk:
        proj.add_annotations([{"image_id": image_id, "type": "cell", "geometry": shapely.box(i, 0, i + 5, 5)}
                              for i in range(BULK)])
    proj.add_annotations({"image_id": image_id, "type": "cell", "geometry": shapely.box(0, 0, 9, 9)})
    proj.close()
    return image_id


def _parquet_files(location) -> list[Path]:
    return sorted((Path(location) / DATA_DIR).rglob("*.parquet"))


def _annotation_file(location) -> Path:
    files = [p for p in _parquet_files(location) if "annotations" in p.parts]
    assert len(files) == 1, files
    return files[0]


# -- the catalog gone or empty while the data is there ------------------------------------------
def test_a_new_project_has_a_marker(tmp_path):
    xl.open_project(tmp_path / "p", user="alice").close()
    assert (tmp_path / "p" / MARKER_FILE).exists()


@pytest.mark.parametrize("damage", ["empty", "deleted"])
def test_a_lost_catalog_is_refused_and_not_replaced(tmp_path, small_svs, damage):
    location = tmp_path / "p"
    _project(location, small_svs)
    catalog = location / CATALOG_FILE
    if damage == "empty":
        catalog.write_bytes(b"")
    else:
        catalog.unlink()
    with pytest.raises(CatalogDamagedError, match=str(catalog)):
        xl.open_project(location, user="alice")
    # nothing was written over it: no new empty project took its place
    assert (catalog.stat().st_size == 0) if damage == "empty" else not catalog.exists()


def test_a_lost_catalog_is_refused_even_without_the_marker(tmp_path, small_svs):
    location = tmp_path / "p"
    _project(location, small_svs)
    (location / MARKER_FILE).unlink()  # a project made before the marker existed
    (location / CATALOG_FILE).unlink()
    with pytest.raises(CatalogDamagedError, match="data files"):
        xl.open_project(location, user="alice")


def test_an_empty_catalog_in_an_empty_folder_names_the_file(tmp_path):
    location = tmp_path / "p"
    location.mkdir()
    (location / CATALOG_FILE).write_bytes(b"")
    with pytest.raises(CatalogDamagedError, match="0 bytes"):
        xl.open_project(location, user="alice")


def test_a_dropped_catalog_table_is_named(tmp_path, small_svs):
    location = tmp_path / "p"
    _project(location, small_svs, bulk=False)
    with sqlite3.connect(location / CATALOG_FILE) as db:
        db.execute("DROP TABLE ducklake_data_file")
    with pytest.raises(CatalogDamagedError, match="ducklake_data_file"):
        xl.open_project(location, user="alice")


# -- data files deleted, truncated, corrupted ---------------------------------------------------
def test_a_deleted_data_file_is_named_at_open(tmp_path, small_svs):
    location = tmp_path / "p"
    _project(location, small_svs)
    victim = _annotation_file(location)
    victim.unlink()
    with pytest.raises(CatalogDamagedError, match=f"{victim}.*missing"):
        xl.open_project(location, user="alice")


def test_a_truncated_data_file_is_named_at_open(tmp_path, small_svs):
    location = tmp_path / "p"
    _project(location, small_svs)
    victim = _annotation_file(location)
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(CatalogDamagedError, match=f"{victim}.*damaged"):
        xl.open_project(location, user="alice")


def test_a_corrupted_data_file_is_named_when_read(tmp_path, small_svs):
    location = tmp_path / "p"
    _project(location, small_svs)
    victim = _annotation_file(location)
    data = bytearray(victim.read_bytes())
    data[-8:-4] = b"\xff\xff\xff\x7f"  # the footer length: same size, unreadable
    victim.write_bytes(bytes(data))
    proj = xl.open_project(location, user="alice")  # same size: only reading can tell
    with pytest.raises(CatalogDamagedError, match=str(victim)):
        proj.annotations()
    proj.close()


# -- moved and write-protected folders ----------------------------------------------------------
def test_a_moved_project_opens_and_takes_writes(tmp_path, small_svs):
    image_id = _project(tmp_path / "before", small_svs)
    shutil.move(tmp_path / "before", tmp_path / "after")
    proj = xl.open_project(tmp_path / "after", user="alice")
    assert len(proj.annotations()) == BULK + 1
    proj.add_annotations({"image_id": image_id, "type": "cell", "geometry": shapely.box(1, 1, 4, 4)})
    assert len(proj.annotations()) == BULK + 2
    proj.close()
    assert not (tmp_path / "before").exists()  # nothing was written at the old place


def _as_unprivileged(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a process that file permissions apply to (root's overrides dropped)."""
    command = [sys.executable, "-c", textwrap.dedent(code)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be tested")
        command = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner"] + command
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _protect(location: Path, *paths: Path):
    for path in paths:
        path.chmod(0o555 if path.is_dir() else 0o444)


def test_read_only_on_a_write_protected_folder_works(tmp_path, small_svs):
    location = tmp_path / "p"
    _project(location, small_svs)
    _protect(location, *[p for p in location.rglob("*")], location)
    try:
        done = _as_unprivileged(f"""
            import exact_lab as xl
            proj = xl.open_project({str(location)!r}, user="reader", read_only=True)
            print(len(proj.annotations()))
        """)
    finally:
        for path in [location, *location.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-1] == str(BULK + 1)


@pytest.mark.parametrize("protected", [CATALOG_FILE, DATA_DIR])
def test_a_write_protected_catalog_or_data_folder_is_named_at_once(tmp_path, small_svs, protected):
    location = tmp_path / "p"
    _project(location, small_svs)
    target = location / protected
    _protect(location, target)
    try:
        start = time.monotonic()
        done = _as_unprivileged(f"""
            import exact_lab as xl
            from exact_lab.errors import ProjectLocationError
            try:
                xl.open_project({str(location)!r}, user="writer")
            except ProjectLocationError as exc:
                print("REFUSED", exc)
        """)
        took = time.monotonic() - start
    finally:
        target.chmod(0o755 if target.is_dir() else 0o644)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "REFUSED" in done.stdout and str(target) in done.stdout and "read_only=True" in done.stdout
    assert "other writers" not in done.stdout
    assert took < 60  # it used to wait 120 s and blame other writers


def test_a_file_where_the_project_should_be_is_refused(tmp_path):
    (tmp_path / "p").write_text("x")
    with pytest.raises(ProjectLocationError, match="is a file"):
        xl.open_project(tmp_path / "p", user="alice")


# -- small commits stay in the catalog ----------------------------------------------------------
def test_single_row_commits_are_inlined_not_one_file_each(tmp_path, small_svs):
    location = tmp_path / "p"
    image_id = _project(location, small_svs, bulk=False)
    before = _parquet_files(location)
    proj = xl.open_project(location, user="alice")
    for i in range(20):
        proj.add_annotations({"image_id": image_id, "type": "cell", "geometry": shapely.box(i, 0, i + 3, 3)})
    assert len(proj.annotations()) == 21
    proj.close()
    assert _parquet_files(location) == before


# -- another process holds the catalog ----------------------------------------------------------
HOLD = 6.5  # longer than SQLite's default busy timeout of 5 s, which used to fail at once


def _hold_catalog(catalog: Path, seconds: float) -> subprocess.Popen:
    code = textwrap.dedent(f"""
        import sqlite3, sys, time
        db = sqlite3.connect({str(catalog)!r}, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        print("held", flush=True)
        time.sleep({seconds})
        db.execute("COMMIT")
    """)
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_open_and_session_add_wait_for_a_locked_catalog(tmp_path, small_svs):
    location = tmp_path / "p"
    image_id = _project(location, small_svs, bulk=False)
    holder = _hold_catalog(location / CATALOG_FILE, HOLD)
    try:
        proj = xl.open_project(location, user="bob")  # used to raise "database is locked"
    finally:
        holder.wait()
    holder = _hold_catalog(location / CATALOG_FILE, HOLD)
    try:
        uuids = proj.session.add({"image_id": image_id, "type": "cell", "geometry": shapely.box(2, 2, 8, 8)})
    finally:
        holder.wait()
    proj.flush()
    assert set(uuids) <= set(proj.annotations()["uuid"])
    proj.close()


# -- a writer killed inside SQLite's commit: a hot journal --------------------------------------
def _leave_hot_journal(catalog: Path) -> Path:
    """A process killed while it writes the catalog's pages leaves a rollback journal that the next
    writable connection must play back (SQLite calls it hot)."""
    script = textwrap.dedent(f"""
        import os, signal, sqlite3
        db = sqlite3.connect({str(catalog)!r}, isolation_level=None)
        db.execute("PRAGMA cache_size = 2")  # spill pages into the file before the commit
        db.execute("BEGIN IMMEDIATE")
        db.execute("CREATE TABLE half_written (x BLOB)")
        db.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) "
                   "INSERT INTO half_written SELECT randomblob(4000) FROM n")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    journal = catalog.with_name(catalog.name + "-journal")
    assert journal.exists() and journal.stat().st_size > 0  # the state the test is about
    return journal


def test_a_hot_journal_is_rolled_back_by_the_next_writer_and_named_to_a_reader(tmp_path, small_svs):
    location = tmp_path / "p"
    _project(location, small_svs)
    catalog = location / CATALOG_FILE
    journal = _leave_hot_journal(catalog)
    with pytest.raises(CatalogDamagedError, match="journal") as refused:
        xl.open_project(location, user="reader", read_only=True)
    assert str(journal) in str(refused.value) and "writable" in str(refused.value)
    proj = xl.open_project(location, user="alice")  # plays the journal back
    assert len(proj.annotations()) == BULK + 1
    proj.close()
    assert not journal.exists() or journal.stat().st_size == 0
    with contextlib.closing(sqlite3.connect(catalog)) as db:
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half_written'").fetchone() == (0,)
    reader = xl.open_project(location, user="reader", read_only=True)
    assert len(reader.annotations()) == BULK + 1
    reader.close()


def test_an_open_project_reads_on_after_another_writer_left_a_hot_journal(tmp_path, small_svs):
    location = tmp_path / "p"
    image_id = _project(location, small_svs)
    proj = xl.open_project(location, user="alice")
    assert len(proj.annotations()) == BULK + 1
    _leave_hot_journal(location / CATALOG_FILE)
    assert len(proj.annotations()) == BULK + 1  # the catalog cache's check rolls it back
    proj.add_annotations({"image_id": image_id, "type": "cell", "geometry": shapely.box(1, 1, 4, 4)})
    assert len(proj.annotations()) == BULK + 2
    proj.close()


# -- a writer killed with SIGKILL at random moments ----------------------------------------------
KILLS = 20


def test_a_writer_killed_mid_batch_leaves_whole_batches(tmp_path, small_svs):
    import random
    import signal

    location = tmp_path / "p"
    image_id = _project(location, small_svs, bulk=False)
    proj = xl.open_project(location, user="checker")
    proj.commit("before")
    proj.close()
    rng = random.Random(9)
    script = Path(__file__).with_name("writer_process.py")
    done_adds, done_moves = set(), set()

    def start(run: int) -> subprocess.Popen:
        # started one run ahead: the next writer imports exact_lab (2-4 s) while this one writes,
        # and opens the project only when told, so one writer at a time is killed mid-batch
        return subprocess.Popen([sys.executable, str(script), "until-killed", str(location), f"r{run}",
                                 str(image_id), str(run), "--wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)

    upcoming = start(0)
    for run in range(KILLS):
        writer = upcoming
        writer.stdin.write("go\n")
        writer.stdin.flush()
        first = writer.stdout.readline()  # opened, first batch begun
        assert first.startswith("begin"), first
        if run + 1 < KILLS:
            upcoming = start(run + 1)
        time.sleep(rng.uniform(0.0, 1.5))  # anywhere in the first few batches
        writer.send_signal(signal.SIGKILL)
        out, _ = writer.communicate()
        assert writer.returncode == -signal.SIGKILL
        for line in (first + out).splitlines():
            kind, what, batch = line.split()
            if kind == "done":
                (done_adds if what == "add" else done_moves).add(batch)

    proj = xl.open_project(location, user="checker")  # opens after 20 kills
    stored = proj.annotations()
    stored = stored[stored["description"].str.count(":") >= 2]
    batch = stored["description"].str.split(":").str[:2].str.join(":")  # "run:batch"
    moved = stored["description"].str.endswith(":moved")
    # rows of one batch: all there (size rows) or none; moves of one batch: all or none
    for key, rows in stored[~moved].groupby(batch[~moved]):
        size = int(rows["description"].iat[0].split(":")[2])
        assert len(rows) + int(moved[batch == key].sum()) == size, f"batch {key} is partial"
    for key in set(batch[moved]):
        assert (batch == key).sum() == moved[batch == key].sum(), f"the move of batch {key} is partial"
    present = set(batch)
    assert done_adds <= present  # every batch the writer saw committed is there
    assert done_moves <= set(batch[moved])
    # the versions agree with what landed: everything added since "before" is in the diff
    proj.commit("after")
    diff = proj.diff("before", "after")
    assert set(diff[diff["change"] == "added"]["uuid"]) == set(stored["uuid"])
    assert (diff["change"] == "added").all()
    sample = stored[moved].head(3)["uuid"].tolist() + stored[~moved].head(3)["uuid"].tolist()
    for uuid in sample:
        states = proj.history(uuid)
        assert states["description"].iat[-1] == stored.set_index("uuid").loc[uuid, "description"]
    proj.close()
