"""``exact-lab team init``: the catalog database, the project's tables, a first team and its admin."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from ..errors import ProjectLocationError, TeamSetupError
from .checks import Finding, check_catalog_url, check_data_path, first_line, reach_catalog, redact, scrub


def create_database(location: str) -> Finding:
    """Create the catalog's database when the server has none of that name (PostgreSQL keeps
    databases apart; DuckLake needs one of its own). Needs psycopg."""
    try:
        import psycopg
    except ImportError:
        return Finding(False, "catalog", "the database does not exist, and psycopg is not installed to create it "
                                         "(pip install 'exact-lab[team]', or createdb it yourself)")
    parts = urlsplit(location)
    name = parts.path.lstrip("/")
    if not name:
        return Finding(False, "catalog", f"{redact(location)} names no database (postgresql://host/DATABASE)")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True) as db:
            if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                return Finding(True, "catalog", f"the database {name!r} exists")
            db.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(name)))
    except psycopg.Error as exc:
        return Finding(False, "catalog", f"cannot create the database {name!r} on {redact(maintenance)}: "
                                         f"{scrub(scrub(first_line(exc), maintenance), location)}")
    return Finding(True, "catalog", f"created the database {name!r}")


def init_team(location: str, data: str, *, team: str = "team", admin: str | None = None) -> list[Finding]:
    """Create the team catalog at ``location`` (a postgresql:// URL; its database is created when
    missing), check that ``data`` is a writable folder other users can reach (created when
    missing), make the project's tables, the team ``team`` and its first admin ``admin`` (the
    current user by default). Returns the findings, every one ok; raises ``TeamSetupError`` with
    them when a step fails, having written nothing to the catalog."""
    from ..project import current_user, open_project

    admin = admin or current_user()
    findings = [check_catalog_url(location)]
    _stop_unless_ok(findings)
    # the folder first: a refused data path leaves no empty database behind
    findings += check_data_path(data, create=True)
    _stop_unless_ok(findings)
    reached, has_lake = reach_catalog(location)
    if not reached.ok and "does not exist" in reached.detail:
        created = create_database(location)
        findings.append(created)
        _stop_unless_ok(findings)
        reached, has_lake = reach_catalog(location)
    findings.append(reached)
    _stop_unless_ok(findings)
    if has_lake:
        findings.append(Finding(False, "catalog", f"{redact(location)} holds a DuckLake catalog already; "
                                                  "exact-lab team check says what it holds"))
        _stop_unless_ok(findings)
    try:
        project = open_project(location, data=data, user=admin)
    except ProjectLocationError as exc:
        raise TeamSetupError(f"cannot create the project in {redact(location)}: {scrub(str(exc), location)}") from exc
    try:
        project.add_team(team)
        project.add_member(team, admin, "admin")
    finally:
        project.close()
    findings.append(Finding(True, "project", f"created the project, the team {team!r} and its admin {admin!r}"))
    return findings


def _stop_unless_ok(findings: list[Finding]) -> None:
    failed = [f for f in findings if not f.ok]
    if failed:
        raise TeamSetupError("; ".join(f"{f.what}: {f.detail}" for f in failed), findings)
