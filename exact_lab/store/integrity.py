"""Checks made when an embedded project opens: catalog and data checked for each other.

A project folder carries a small marker file (``exact-lab-project.json``) written when the project
is created. It tells a new folder from a damaged project: a folder with the marker (or with data
files) whose catalog is missing or empty is refused, naming the file, instead of silently starting
over as a new empty project and leaving the old data unreferenced (issue 9).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from ..errors import CatalogDamagedError, ProjectLocationError
from .catalog_reads import catalog_reads

MARKER_FILE = "exact-lab-project.json"
MARKER_FORMAT = 1

# DuckLake's own catalog tables that every exact-lab project has from its first commit.
DUCKLAKE_TABLES = (
    "ducklake_metadata", "ducklake_snapshot", "ducklake_snapshot_changes", "ducklake_schema",
    "ducklake_table", "ducklake_column", "ducklake_data_file", "ducklake_delete_file",
)


def write_marker(root: Path, catalog: str, data: str) -> None:
    """Record that this folder holds a project (once; an existing marker is kept)."""
    path = root / MARKER_FILE
    if path.exists():
        return
    temporary = root / f".{MARKER_FILE}.{os.getpid()}"
    temporary.write_text(json.dumps({"exact_lab_project": MARKER_FORMAT, "catalog": catalog, "data": data}))
    os.replace(temporary, path)


def has_marker(root: Path) -> bool:
    return (root / MARKER_FILE).exists()


def _data_files(data: Path) -> list[Path]:
    if not data.is_dir():
        return []
    return [p for p in data.rglob("*.parquet") if p.is_file()]


def check_before_attach(root: Path, catalog: Path, data: Path, *, read_only: bool) -> None:
    """Refuse a folder whose catalog is gone or unusable while it holds a project."""
    marked = has_marker(root)
    if not catalog.exists():
        files = _data_files(data)
        if marked or files:
            held = f"{len(files)} data files in {data}" if files else f"the marker {root / MARKER_FILE}"
            raise CatalogDamagedError(
                f"the catalog {catalog} is missing, but this folder holds a project ({held}); "
                "restore the catalog from a backup rather than starting a new project over it")
        if read_only:
            raise ProjectLocationError(f"no project at {root} (no {catalog.name}) to open read-only")
        return
    if catalog.stat().st_size == 0:
        raise CatalogDamagedError(
            f"the catalog {catalog} is empty (0 bytes); "
            + ("this folder holds a project: restore the catalog from a backup"
               if marked or _data_files(data) else "delete it to start a new project here"))
    _check_sqlite_tables(catalog, read_only=read_only)
    if not read_only:
        if not os.access(catalog, os.W_OK):
            raise ProjectLocationError(
                f"the catalog {catalog} is read-only for this user; open the project with read_only=True")
        if data.exists() and not os.access(data, os.W_OK | os.X_OK):
            raise ProjectLocationError(
                f"the data folder {data} is read-only for this user; open the project with read_only=True")


def _check_sqlite_tables(catalog: Path, *, read_only: bool) -> None:
    """A readable SQLite file holding DuckLake's tables, checked before DuckDB sees it."""
    try:
        reads = catalog_reads(catalog)
    except sqlite3.DatabaseError as exc:
        raise CatalogDamagedError(f"{catalog} is not a readable SQLite catalog: {exc}") from exc
    try:
        names = {row[0] for row in reads.query("SELECT name FROM sqlite_master WHERE type = 'table'",
                                               writable=not read_only)}
    except sqlite3.DatabaseError as exc:
        raise CatalogDamagedError(f"{catalog} is not a readable SQLite catalog: {exc}") from exc
    finally:
        reads.release()
    if not names:
        return  # created by a writer that has not committed its first snapshot yet
    if "ducklake_metadata" not in names:
        raise CatalogDamagedError(f"{catalog} is a SQLite file but not a DuckLake catalog")
    missing = [t for t in DUCKLAKE_TABLES if t not in names]
    if missing:
        raise CatalogDamagedError(f"the catalog {catalog} is damaged: its table(s) {', '.join(missing)} are gone")


def check_data_files(catalog: Path, data: Path, *, writable: bool) -> None:
    """Every data file the current snapshot uses exists and has its recorded size."""
    query = (
        "SELECT f.path, f.path_is_relative, f.file_size_bytes, t.path, t.path_is_relative, s.path "
        "FROM ducklake_data_file f JOIN ducklake_table t USING (table_id) "
        "JOIN ducklake_schema s USING (schema_id) "
        "WHERE f.end_snapshot IS NULL AND t.end_snapshot IS NULL"
    )
    reads = catalog_reads(catalog)
    try:
        rows = reads.query(query, writable=writable)
        rows += reads.query(query.replace("ducklake_data_file", "ducklake_delete_file"), writable=writable)
    except sqlite3.DatabaseError as exc:
        raise CatalogDamagedError(f"the catalog {catalog} is damaged: {exc}") from exc
    finally:
        reads.release()
    for path, relative, size, table_path, table_relative, schema_path in rows:
        file = Path(path)
        if relative:
            table = Path(table_path)
            if table_relative:
                table = data / (schema_path or "") / table
            file = table / file
        try:
            actual = file.stat().st_size
        except FileNotFoundError:
            raise CatalogDamagedError(f"the data file {file} of this project is missing") from None
        if size is not None and actual != int(size):
            raise CatalogDamagedError(
                f"the data file {file} is damaged: {actual} bytes, the catalog recorded {int(size)}")
