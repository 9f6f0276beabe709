"""`exact-lab team init` and `exact-lab team check` against a real PostgreSQL started by the test run."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from exact_lab.cli import main

pytestmark = pytest.mark.postgres


@pytest.fixture
def shared(tmp_path):
    """A data folder other users can reach: its parents open to them (pytest's tmp root is not)."""
    base = tmp_path / "srv"
    base.mkdir()
    for folder in (tmp_path, *tmp_path.parents):
        if folder == folder.parent:
            break
        if not os.stat(folder).st_mode & 0o001:
            os.chmod(folder, os.stat(folder).st_mode | 0o001)
    return base / "exact-data"


def new_database_url(server) -> str:
    """A URL of a database that does not exist yet on the server."""
    return f"postgresql://{server.user}@127.0.0.1:{server.port}/team_{uuid.uuid4().hex[:8]}"


def test_init_creates_the_database_the_team_and_its_admin(postgres_server, shared, capsys):
    import exact_lab as xl

    url = new_database_url(postgres_server)
    assert main(["team", "init", url, "--data", str(shared), "--team", "pathology", "--admin", "alice"]) == 0
    out = capsys.readouterr().out
    assert "created the database" in out and "the team 'pathology' and its admin 'alice'" in out
    assert "FAIL" not in out
    assert shared.is_dir() and shared.stat().st_mode & 0o002  # writable by the other members
    proj = xl.open_project(url, data=str(shared), user="bob")
    try:
        members = proj.memberships()
        assert members[["team", "username", "role"]].values.tolist() == [["pathology", "alice", "admin"]]
        # the catalog records who made the team and the membership
        log = proj.snapshots()
        assert {"alice"} <= set(log["author"]) and log["commit_message"].str.contains("alice joins team").any()
    finally:
        proj.close()


def test_init_on_an_existing_catalog_refuses_and_says_what_to_do(postgres_server, shared, capsys):
    url = new_database_url(postgres_server)
    assert main(["team", "init", url, "--data", str(shared), "--admin", "alice"]) == 0
    capsys.readouterr()
    assert main(["team", "init", url, "--data", str(shared), "--admin", "mallory"]) == 2
    err = capsys.readouterr().err
    assert "holds a DuckLake catalog already" in err and "team check" in err


def test_init_refuses_a_data_folder_only_its_owner_can_write(postgres_server, shared, capsys):
    shared.mkdir()
    shared.chmod(0o700)
    url = new_database_url(postgres_server)
    assert main(["team", "init", url, "--data", str(shared), "--admin", "alice"]) == 2
    captured = capsys.readouterr()
    assert "writable only by its owner" in captured.err and "chmod 2775" in captured.err
    assert "FAIL  shared" in captured.out
    # nothing was written to the catalog: a second try after fixing the folder succeeds
    shared.chmod(0o2775)
    assert main(["team", "init", url, "--data", str(shared), "--admin", "alice"]) == 0


def test_init_refuses_a_data_path_that_is_a_file_or_relative(postgres_server, tmp_path, capsys):
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    url = new_database_url(postgres_server)
    assert main(["team", "init", url, "--data", str(a_file)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert main(["team", "init", url, "--data", "relative/data"]) == 2
    assert "relative path" in capsys.readouterr().err


def test_check_says_the_set_up_works(postgres_server, shared, capsys):
    url = new_database_url(postgres_server)
    assert main(["team", "init", url, "--data", str(shared), "--team", "lab", "--admin", "alice"]) == 0
    capsys.readouterr()
    code = main(["team", "check", url, "--data", str(shared)])
    out = capsys.readouterr().out
    lines = {line[6:].split(":")[0]: line for line in out.splitlines() if line.startswith(("ok", "FAIL"))}
    assert set(lines) == {"catalog", "data path", "shared", "duckdb", "server extension", "project"}, out
    assert "teams lab; admins alice" in lines["project"]
    # the exact-lab server extension is enabled by this checkout's jupyter-config when installed;
    # everything else must be ok here
    assert all(line.startswith("ok") for key, line in lines.items() if key != "server extension"), out
    assert code == (0 if lines["server extension"].startswith("ok") else 1)


def test_check_reads_the_catalog_and_data_from_the_environment(postgres_server, shared, capsys, monkeypatch):
    url = new_database_url(postgres_server)
    assert main(["team", "init", url, "--data", str(shared), "--admin", "alice"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("EXACT_LAB_CATALOG", url)
    monkeypatch.setenv("EXACT_LAB_DATA", str(shared))
    main(["team", "check"])
    assert "admins alice" in capsys.readouterr().out


def test_check_says_the_catalog_cannot_be_reached(tmp_path, capsys):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["team", "check", f"postgresql://nobody:secret@127.0.0.1:{port}/none", "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  catalog: cannot reach postgresql://nobody:***@127.0.0.1:{port}/none" in out
    assert "secret" not in out


def test_check_says_an_empty_database_needs_init(postgres_server, shared, capsys):
    url = postgres_server.create_database()
    shared.mkdir()
    shared.chmod(0o2777)
    assert main(["team", "check", url, "--data", str(shared)]) == 1
    out = capsys.readouterr().out
    assert "an empty database" in out and "holds no exact-lab project yet (run exact-lab team init)" in out


def test_check_says_a_missing_data_folder_and_a_folder_url(postgres_server, tmp_path, capsys):
    url = new_database_url(postgres_server)
    assert main(["team", "check", url, "--data", str(tmp_path / "nowhere")]) == 1
    out = capsys.readouterr().out
    assert "does not exist (exact-lab team init creates it)" in out
    assert main(["team", "check", str(tmp_path / "a-folder")]) == 1
    assert "is not a postgresql:// URL" in capsys.readouterr().out
