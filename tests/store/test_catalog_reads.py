"""Python's sqlite3 reading a catalog that DuckDB's own copy of SQLite writes in the same process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import shapely

from exact_lab.errors import CatalogDamagedError
from exact_lab.store.catalog_reads import catalog_reads, journal_of
from exact_lab.store.extensions import connect, load_extension


def _ducklake_like(path):
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE ducklake_metadata (key TEXT, value TEXT)")
        db.execute("INSERT INTO ducklake_metadata VALUES ('version', '1')")


def test_a_read_during_this_process_s_own_commit_leaves_the_journal_alone(tmp_path):
    # A read-write connection of Python's SQLite took DuckDB's journal of a commit in progress for
    # a dead writer's, played it back, and the commit failed with a malformed file.
    path = tmp_path / "catalog.sqlite"
    _ducklake_like(path)
    con = connect()
    load_extension(con, "sqlite_scanner")
    con.execute(f"ATTACH '{path}' AS s (TYPE sqlite)")
    con.execute("BEGIN")
    con.execute("INSERT INTO s.ducklake_metadata SELECT 'k' || i, repeat('x', 2000) FROM range(20000) t(i)")
    assert journal_of(path).exists()  # the commit is under way: its journal looks hot to Python's copy

    reads = catalog_reads(path)
    result = {}
    reader = threading.Thread(target=lambda: result.setdefault(
        "rows", reads.query("SELECT count(*) FROM ducklake_metadata", writable=True)))
    reader.start()
    time.sleep(0.3)
    con.execute("COMMIT")  # the read waited for it instead of rolling it back
    reader.join(10)
    reads.release()
    con.close()
    assert result["rows"][0][0] in (1, 20001)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("SELECT count(*) FROM ducklake_metadata").fetchall() == [(20001,)]


def test_a_dead_writer_s_journal_is_rolled_back_for_a_writer_and_reported_to_a_reader(tmp_path):
    path = tmp_path / "catalog.sqlite"
    _ducklake_like(path)
    killed = (
        "import sqlite3, os\n"
        f"db = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "db.execute('PRAGMA cache_size = 1'); db.execute('BEGIN IMMEDIATE')\n"
        "db.execute(\"INSERT INTO ducklake_metadata SELECT 'k', randomblob(2000) FROM "
        "(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 2000) SELECT i FROM r)\")\n"
        "os._exit(0)\n")
    subprocess.run([sys.executable, "-c", killed], check=True)
    assert journal_of(path).exists()

    reads = catalog_reads(path)
    try:
        with pytest.raises(CatalogDamagedError, match="unfinished commit"):
            reads.query("SELECT count(*) FROM ducklake_metadata", writable=False)
        assert reads.query("SELECT count(*) FROM ducklake_metadata", writable=True) == [(1,)]
    finally:
        reads.release()
    assert not journal_of(path).exists()


def test_stores_of_one_catalog_share_one_reader_closed_with_the_last(tmp_path, small_svs):
    import exact_lab as xl

    first = xl.open_project(tmp_path / "p", user="alice")
    first.add_annotation_type("cell", "box")
    image_id = int(first.add_images([small_svs])["image_id"].iloc[0])
    second = xl.open_project(tmp_path / "p", user="bob")
    reads = catalog_reads(tmp_path / "p" / "catalog.sqlite")
    assert reads.users == 3  # the two stores and this test
    reads.release()
    first.close()
    assert reads.users == 1
    second.add_annotations({"image_id": image_id, "type": "cell", "geometry": shapely.box(0, 0, 5, 5)})
    assert len(second.annotations()) == 1
    second.close()
    assert reads.users == 0
    again = catalog_reads(tmp_path / "p" / "catalog.sqlite")
    assert again is not reads  # the old connection was closed; a new one is opened
    again.release()
