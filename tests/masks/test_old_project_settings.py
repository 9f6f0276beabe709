"""A project created before ``mask_tiles`` had DuckLake settings of its own gets them when it is
opened for writing, once: opening it again writes nothing, and a read-only open changes nothing."""

from __future__ import annotations

import exact_lab as xl
import exact_lab.project as project_module
from exact_lab.masks.tilestore import TABLE_OPTIONS


def mask_options(proj) -> dict:
    return dict(proj.sql("SELECT option_name, value FROM lake.options() WHERE scope = 'TABLE' "
                         "AND scope_entry = 'main.mask_tiles'").fetchall())


def snapshots(proj) -> int:
    return proj.sql("SELECT count(*) FROM lake.snapshots()").fetchone()[0]


def test_an_old_project_gets_the_mask_tile_settings_once_when_opened_for_writing(tmp_path, monkeypatch):
    folder = tmp_path / "old"
    with monkeypatch.context() as m:
        m.setattr(project_module, "MASK_TABLE_OPTIONS", {})  # as projects were created until masks3
        old = xl.open_project(folder, user="alice")
        assert mask_options(old) == {}
        old.close()
    reader = xl.open_project(folder, user="alice", read_only=True)
    assert mask_options(reader) == {}
    reader.close()
    proj = xl.open_project(folder, user="alice")
    assert mask_options(proj) == {k: str(v) for k, v in TABLE_OPTIONS.items()}
    before = snapshots(proj)
    proj.close()
    again = xl.open_project(folder, user="bob")
    assert snapshots(again) == before + 1  # bob's user row only: the settings are not written again
    assert mask_options(again) == {k: str(v) for k, v in TABLE_OPTIONS.items()}
    again.close()
