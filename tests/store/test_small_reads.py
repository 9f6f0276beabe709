"""The store's connection for small committed reads: its own single-threaded DuckDB instance on the
same catalog, which sees each commit as soon as it is made, also time travel, and closes with the store."""

from __future__ import annotations

import duckdb
import pytest


def test_small_reads_see_each_commit_at_once_and_time_travel(project):
    store = project._store
    store.run_transaction(lambda con: con.execute("INSERT INTO project_info VALUES ('probe', 'one')"))
    first = store.current_snapshot()
    with store.small_reads() as con:
        assert con.execute("SELECT value FROM project_info WHERE key = 'probe'").fetchall() == [("one",)]
        assert int(con.execute("SELECT current_setting('threads')").fetchone()[0]) == 1
    store.run_transaction(lambda con: con.execute("UPDATE project_info SET value = 'two' WHERE key = 'probe'"))
    with store.small_reads() as con:
        assert con.execute("SELECT value FROM project_info WHERE key = 'probe'").fetchall() == [("two",)]
        old = con.execute(f"SELECT value FROM project_info AT (VERSION => {first}) WHERE key = 'probe'").fetchall()
        assert old == [("one",)]


def test_small_reads_refuse_writes_and_close_with_the_store(tmp_path):
    import exact_lab as xl

    proj = xl.open_project(tmp_path / "p", user="ann")
    with proj._store.small_reads() as con:
        with pytest.raises(duckdb.Error, match="(?i)read.only"):
            con.execute("INSERT INTO project_info VALUES ('x', 'y')")
    proj.close()
    with pytest.raises(duckdb.Error):
        con.execute("SELECT 1")


def test_small_reads_on_a_team_catalog_see_a_mask_written_at_once(team_catalog, small_svs):
    import numpy as np

    import exact_lab as xl

    url, data = team_catalog
    proj = xl.open_project(url, data=data, user="ann")
    try:
        tumour = proj.add_annotation_type("tumour", "mask")
        image_id = int(proj.add_images([small_svs])["image_id"].iloc[0])
        block = np.full((600, 700), tumour, np.uint8)
        proj.set_mask(image_id, block, offset=(300, 400))
        assert np.array_equal(proj.mask(image_id, region=(300, 400, 1000, 1000)), block)
        proj.set_mask(image_id, np.zeros((600, 700), np.uint8), offset=(300, 400))
        assert not proj.mask(image_id, region=(300, 400, 1000, 1000)).any()
    finally:
        proj.close()
