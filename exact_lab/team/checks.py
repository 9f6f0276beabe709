"""What a team deployment needs, each check saying in words what is wrong and how to fix it."""

from __future__ import annotations

import contextlib
import json
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Finding:
    """One check's outcome: ``ok``, what was checked, and what was found (or what to do)."""

    ok: bool
    what: str
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.what}: {self.detail}"


def is_catalog_url(location: str) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


def check_catalog_url(location: str) -> Finding:
    if is_catalog_url(location):
        return Finding(True, "catalog", f"{redact(location)} is a PostgreSQL URL")
    return Finding(False, "catalog", f"{location!r} is not a postgresql:// URL; a team's catalog lives in PostgreSQL "
                                     "(a folder is a single-machine project: use exact-lab info)")


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}{':***' if ':' in creds else ''}@{host}"


def scrub(text: str, location: str) -> str:
    """``text`` (a driver's error, which may quote the URL) with the URL's password blanked."""
    text = text.replace(location, redact(location))
    password = password_of(location)
    return text.replace(password, "***") if password else text


def password_of(url: str) -> str | None:
    from urllib.parse import urlsplit

    try:
        return urlsplit(url).password
    except ValueError:
        return None


def reach_catalog(location: str) -> tuple[Finding, bool]:
    """Connect to the PostgreSQL database through DuckDB's postgres extension. Returns the finding
    and whether the database already holds a DuckLake catalog."""
    from ..store.extensions import connect, load_extension

    con = connect()
    try:
        load_extension(con, "postgres_scanner")
        con.execute(f"ATTACH '{location.replace(chr(39), chr(39) * 2)}' AS pg (TYPE postgres, READ_ONLY)")
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'pg'").fetchall()}
    except duckdb.Error as exc:
        return Finding(False, "catalog", f"cannot reach {redact(location)}: {scrub(first_line(exc), location)}"), False
    finally:
        with contextlib.suppress(duckdb.Error):
            con.close()
    has_lake = "ducklake_metadata" in tables
    detail = f"reached {redact(location)}" + (", it holds a DuckLake catalog" if has_lake else ", an empty database")
    return Finding(True, "catalog", detail), has_lake


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def check_data_path(data: str, *, create: bool = False) -> list[Finding]:
    """The shared data path: a folder every member's server can write (or an object-store URL,
    which is not checked from here)."""
    if "://" in data:
        return [Finding(True, "data path", f"{data} is an object-store URL; DuckDB's httpfs reaches it with the "
                                           "credentials each server has (not checked here)")]
    path = Path(data).expanduser()
    if not path.is_absolute():
        return [Finding(False, "data path", f"{data} is a relative path; give the absolute path every member's "
                                            "server sees (the same on all of them)")]
    if path.exists() and not path.is_dir():
        return [Finding(False, "data path", f"{path} is a file, not a folder")]
    if not path.exists():
        if not create:
            return [Finding(False, "data path", f"{path} does not exist (exact-lab team init creates it)")]
        try:
            path.mkdir(parents=True)
            # Every member writes here: group and others may write, and the setgid bit keeps new
            # files in the folder's group.
            path.chmod(0o2777)
        except OSError as exc:
            return [Finding(False, "data path", f"cannot create {path}: {exc.strerror}")]
    return [probe_writable(path), check_shared(path)]


def probe_writable(path: Path) -> Finding:
    """Write, read back and remove a file: what the catalog's writers will do."""
    probe = path / f".exact-lab-probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"exact-lab")
        back = probe.read_bytes()
    except OSError as exc:
        return Finding(False, "data path", f"cannot write in {path}: {exc.strerror}")
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    if back != b"exact-lab":
        return Finding(False, "data path", f"{path} gave back other bytes than were written")
    return Finding(True, "data path", f"{path} is writable")


def check_shared(path: Path) -> Finding:
    """Other users (each member's server runs as its own user) must reach and write the folder:
    every parent traversable by them, the folder itself writable by its group or by everyone."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & (stat.S_IXGRP | stat.S_IXOTH):
            return Finding(False, "shared", f"{parent} is closed to other users (mode {stat.filemode(mode)}); "
                                            f"members' servers cannot reach {path}. chmod o+x (or g+x) it")
    mode = path.stat().st_mode
    if mode & stat.S_IWOTH:
        return Finding(True, "shared", f"{path} is writable by every user (mode {stat.filemode(mode)})")
    if mode & stat.S_IWGRP:
        import grp

        group = grp.getgrgid(path.stat().st_gid).gr_name
        return Finding(True, "shared", f"{path} is writable by the group {group!r} (mode {stat.filemode(mode)}); "
                                       "every member must belong to it")
    return Finding(False, "shared", f"{path} is writable only by its owner (mode {stat.filemode(mode)}); other "
                                    "members' servers cannot write the data files. chmod 2775 it for a group "
                                    "every member is in, or 2777")


def check_duckdb_extensions(team: bool = True) -> Finding:
    from ..store.extensions import connect, load_extension

    names = ["ducklake", "postgres_scanner"] if team else ["ducklake", "sqlite_scanner"]
    con = connect()
    try:
        for name in names:
            try:
                load_extension(con, name)
            except duckdb.Error as exc:
                return Finding(False, "duckdb", f"cannot load DuckDB's {name} extension: {first_line(exc)} "
                                                f"(pip install duckdb-extension-{name.replace('_', '-')}=={duckdb.__version__})")
    finally:
        con.close()
    return Finding(True, "duckdb", f"DuckDB {duckdb.__version__} loads {', '.join(names)}")


def check_server_extension() -> Finding:
    """Is the exact-lab Jupyter server extension enabled in the configuration a server would read?"""
    from jupyter_core.paths import jupyter_config_path

    enabled_in = None
    for folder in reversed(jupyter_config_path()):  # lowest precedence first, later ones win
        for config in [Path(folder) / "jupyter_server_config.json",
                       *sorted((Path(folder) / "jupyter_server_config.d").glob("*.json"))]:
            try:
                setting = json.loads(config.read_text()).get("ServerApp", {}).get("jpserver_extensions", {})
            except (OSError, ValueError):
                continue
            if "exact_lab" in setting:
                enabled_in = (bool(setting["exact_lab"]), config)
    if enabled_in is None:
        return Finding(False, "server extension", "exact_lab is not enabled in any Jupyter configuration; tiles will "
                                                  "come over the widget comm (run: jupyter server extension enable exact_lab)")
    on, config = enabled_in
    if not on:
        return Finding(False, "server extension", f"exact_lab is disabled by {config}; tiles will come over the "
                                                  "widget comm (run: jupyter server extension enable exact_lab)")
    bundle = Path(__file__).resolve().parents[1] / "static" / "viewer.js"
    if not bundle.exists():
        return Finding(False, "server extension", f"enabled in {config}, but the front end is not built ({bundle} "
                                                  "is missing: cd js && npm run build)")
    return Finding(True, "server extension", f"enabled in {config}")


def check_project(location: str, data: str) -> Finding:
    from ..errors import ExactLabError
    from ..project import open_project

    try:
        project = open_project(location, data=data, read_only=True)
    except (ExactLabError, duckdb.Error) as exc:
        return Finding(False, "project", f"the catalog is not a readable exact-lab project: {scrub(first_line(exc), location)}")
    try:
        teams = project.teams()
        admins = project.memberships().query("role == 'admin'")
        info = project.info()
    finally:
        project.close()
    if teams.empty:
        return Finding(False, "project", "the project has no team (exact-lab team init makes the first)")
    if admins.empty:
        return Finding(False, "project", f"no team has an admin: {', '.join(teams['name'])}")
    return Finding(True, "project", f"teams {', '.join(teams['name'])}; admins {', '.join(sorted(set(admins['username'])))}; "
                                    f"{info['images']} images, {info['annotations']} annotations, snapshot {info['snapshot']}")


def check_team(location: str, data: str | None) -> list[Finding]:
    """Every check of a team's set-up, in the order a person would fix them. Returns the findings;
    the set-up works when every one is ``ok``."""
    findings = [check_catalog_url(location)]
    if not findings[0].ok:
        return findings
    reached, has_lake = reach_catalog(location)
    findings.append(reached)
    if not data:
        findings.append(Finding(False, "data path", "not given: pass --data (or set EXACT_LAB_DATA) to the shared folder"))
    else:
        findings += check_data_path(data)
    findings += [check_duckdb_extensions(), check_server_extension()]
    if reached.ok and not has_lake:
        findings.append(Finding(False, "project", "the database holds no exact-lab project yet (run exact-lab team init)"))
    elif reached.ok and data and all(f.ok for f in findings if f.what == "data path"):
        findings.append(check_project(location, data))
    return findings
