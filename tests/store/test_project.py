"""Opening projects: embedded and team, creation, and the clear errors for bad locations."""

from __future__ import annotations

import os
import sqlite3

import pytest

import exact_lab as xl
from exact_lab.errors import CatalogDamagedError, ProjectLocationError


def test_folder_is_created_with_catalog_and_data(tmp_path):
    proj = xl.open_project(tmp_path / "a" / "b", user="carol")
    assert (tmp_path / "a" / "b" / "catalog.sqlite").is_file()
    assert (tmp_path / "a" / "b" / "data").is_dir()
    info = proj.info()
    assert info["mode"] == "embedded" and info["user"] == "carol" and info["users"] == 1
    proj.close()
    again = xl.open_project(tmp_path / "a" / "b", user="dave")
    assert set(again.users()["username"]) == {"carol", "dave"}
    again.close()


def test_current_user_comes_from_jupyterhub(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-user")
    proj = xl.open_project(tmp_path / "p")
    assert proj.user == "hub-user"
    proj.close()


def test_a_file_is_not_a_project(tmp_path):
    path = tmp_path / "file.txt"
    path.write_text("hello")
    with pytest.raises(ProjectLocationError, match="is a file"):
        xl.open_project(path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_location(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    with pytest.raises(ProjectLocationError):
        xl.open_project(locked / "p")


def test_damaged_catalogs(tmp_path):
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "catalog.sqlite").write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(CatalogDamagedError, match="not a readable SQLite catalog"):
        xl.open_project(garbage)

    other = tmp_path / "other"
    other.mkdir()
    with sqlite3.connect(other / "catalog.sqlite") as db:
        db.execute("CREATE TABLE something (x)")
    with pytest.raises(CatalogDamagedError, match="not a DuckLake catalog"):
        xl.open_project(other)
    # nothing was written into the damaged catalog
    with sqlite3.connect(other / "catalog.sqlite") as db:
        assert [r[0] for r in db.execute("SELECT name FROM sqlite_master")] == ["something"]


def test_team_mode_needs_a_data_path():
    with pytest.raises(ProjectLocationError, match="data="):
        xl.open_project("postgresql://nobody@127.0.0.1:1/none")


@pytest.mark.postgres
def test_team_project_round_trip(team_catalog, small_svs):
    from shapely.geometry import box

    location, data = team_catalog
    alice = xl.open_project(location, data=data, user="alice")
    assert alice.info()["mode"] == "team"
    alice.add_annotation_type("mitosis", "box")
    image_id = int(alice.add_images([small_svs])["image_id"].iloc[0])
    uuid = alice.add_annotations([{"image_id": image_id, "type": "mitosis", "geometry": box(1, 2, 3, 4)}])[0]
    alice.commit("v1")
    bob = xl.open_project(location, data=data, user="bob")
    bob.update_annotations([{"uuid": uuid, "geometry": box(2, 2, 3, 4)}])
    diff = alice.diff("v1")
    assert diff["before"].iloc[0].equals_exact(box(1, 2, 3, 4), 0)
    assert diff["after"].iloc[0].equals_exact(box(2, 2, 3, 4), 0)
    assert alice.history(uuid)["editor"].tolist() == ["alice", "bob"]
    bob.close()
    alice.close()


def test_unreachable_team_catalog(tmp_path):
    with pytest.raises(ProjectLocationError, match="cannot reach"):
        xl.open_project("postgresql://nobody@127.0.0.1:1/none", data=str(tmp_path / "d"))


def test_extensions_come_from_the_pinned_wheels():
    import duckdb

    from exact_lab.store.extensions import _packaged_binary

    for name in ("ducklake", "sqlite_scanner", "postgres_scanner"):
        binary = _packaged_binary(name)
        assert binary is not None, name
        assert f"v{duckdb.__version__}" in binary  # the same version DuckDB is pinned to


def test_sql_results_read_in_one_thread_while_another_queries_the_project(project, small_svs):
    # proj.sql(...).df() read on the shared connection outside the store's lock, and a change
    # poller's query at that moment hung both threads for good (the masks tests, once per run)
    import threading

    from shapely.geometry import box

    project.add_annotation_type("cell", "box")
    image = int(project.add_images([small_svs])["image_id"][0])
    project.add_annotations([{"image_id": image, "type": "cell", "geometry": box(i, i, i + 5, i + 5)}
                             for i in range(200)])
    counts, snapshots, errors = [], [], []

    def reader():
        try:
            for _ in range(100):
                counts.append(int(project.sql("SELECT count(*) AS n FROM annotations").df()["n"][0]))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def poller():
        try:
            for _ in range(100):
                snapshots.append(project.info()["snapshot"])
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=reader, daemon=True), threading.Thread(target=poller, daemon=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a reader and a poller of one project hung each other"
    assert errors == []
    assert counts == [200] * 100 and len(snapshots) == 100


def test_a_sql_relation_can_be_queried_further_after_the_project_changed(project, small_svs):
    from shapely.geometry import box

    project.add_annotation_type("cell", "box")
    image = int(project.add_images([small_svs])["image_id"][0])
    project.add_annotations([{"image_id": image, "type": "cell", "geometry": box(0, 0, 5, 5)}])
    relation = project.sql("SELECT uuid, image_id FROM annotations")
    project.add_annotations([{"image_id": image, "type": "cell", "geometry": box(9, 9, 15, 15)}])
    # the relation holds the result of when it was asked for
    assert len(relation.filter(f"image_id = {image}").df()) == 1
    assert project.sql("CREATE TABLE scratch AS SELECT 1 AS x") is None
