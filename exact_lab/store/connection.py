"""Open a project's DuckLake catalog: embedded (SQLite file) or team (PostgreSQL).

One :class:`Store` per open project. It owns the DuckDB connection, serialises its use across
threads (the edit session commits from a background thread), and retries transactions that
conflict with other writers instead of dropping them.
"""

from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from ..errors import CatalogDamagedError, CommitFailedError, ProjectLocationError
from .extensions import load_extension

T = TypeVar("T")

LAKE = "lake"  # the alias the catalog is attached under
CATALOG_FILE = "catalog.sqlite"
DATA_DIR = "data"
# Small interactive commits are written into the catalog instead of one Parquet file each.
INLINING_ROW_LIMIT = 1000


_CONFLICT_WORDS = (
    "transaction conflict",     # DuckLake: another writer committed first
    "database is locked",       # SQLite catalog busy
    "could not serialize",      # PostgreSQL serialization failure
    "deadlock detected",
    "duplicate key value",      # two writers took the same snapshot id in PostgreSQL
)


def _is_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, duckdb.TransactionException) or any(word in text for word in _CONFLICT_WORDS)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Store:
    """A DuckDB connection with the project's DuckLake attached as ``lake``."""

    def __init__(self, location: str, data: str | None = None, *, read_only: bool = False):
        self.location = str(location)
        self.team = self.location.startswith(("postgresql://", "postgres://"))
        self.lock = threading.RLock()
        if self.team:
            if not data:
                raise ProjectLocationError(
                    "team mode needs data=: the shared folder (or object-store URL) "
                    "where the Parquet files live"
                )
            self.root = None
            self.data_path = str(data).rstrip("/") + "/"
            if "://" not in self.data_path:
                Path(self.data_path).mkdir(parents=True, exist_ok=True)
        else:
            self.root = self._prepare_folder(Path(location))
            self.data_path = str(self.root / DATA_DIR) + "/"
        self.con = duckdb.connect()
        self._attach(read_only)

    # -- opening -----------------------------------------------------------------------------
    @staticmethod
    def _prepare_folder(root: Path) -> Path:
        root = root.expanduser().absolute()
        if root.exists() and not root.is_dir():
            raise ProjectLocationError(f"{root} is a file, not a project folder")
        try:
            (root / DATA_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectLocationError(f"cannot create the project folder {root}: {exc}") from exc
        if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
            raise ProjectLocationError(f"{root} is not readable and writable by this user")
        catalog = root / CATALOG_FILE
        if catalog.exists():
            _check_sqlite_catalog(catalog)
        return root

    def _attach(self, read_only: bool) -> None:
        con = self.con
        try:
            load_extension(con, "ducklake")
            load_extension(con, "postgres_scanner" if self.team else "sqlite_scanner")
        except duckdb.Error as exc:  # pragma: no cover - packaging problem
            raise ProjectLocationError(f"cannot load the DuckLake extension: {exc}") from exc
        if self.team:
            target = "ducklake:postgres:" + self.location
        else:
            target = "ducklake:sqlite:" + str(self.root / CATALOG_FILE)
        options = [f"DATA_PATH {_quote(self.data_path)}"]
        if read_only:
            options.append("READ_ONLY")
        else:
            options.append(f"DATA_INLINING_ROW_LIMIT {INLINING_ROW_LIMIT}")
        sql = f"ATTACH {_quote(target)} AS {LAKE} ({', '.join(options)})"
        last: Exception | None = None
        for attempt in range(40):  # first-time creation races with other processes
            try:
                con.execute(sql)
                break
            except duckdb.Error as exc:
                last = exc
                if _is_conflict(exc) or "already exists" in str(exc).lower():
                    time.sleep(0.05 + random.random() * 0.1 * (attempt + 1))
                    continue
                raise _attach_error(self.location, exc) from exc
        else:
            raise _attach_error(self.location, last)
        con.execute(f"USE {LAKE}")
        # Our own retry loop (run_transaction) decides how long to persist.
        con.execute("SET ducklake_max_retry_count = 100")
        # DuckLake never rewrites a data file in place (new files get new names), so their
        # Parquet footers can be kept between queries: a viewport query then reads no metadata.
        con.execute("SET parquet_metadata_cache = true")

    # -- use ---------------------------------------------------------------------------------
    def sql(self, query: str, params=None):
        """Run one statement and return the DuckDB result (a relation-like cursor)."""
        with self.lock:
            return self.con.execute(query, params) if params is not None else self.con.execute(query)

    def df(self, query: str, params=None):
        # Through Arrow: BLOBs arrive as bytes (shapely reads those), not bytearrays.
        with self.lock:
            return self.sql(query, params).to_arrow_table().to_pandas()

    def fetchall(self, query: str, params=None):
        with self.lock:
            return self.sql(query, params).fetchall()

    def current_snapshot(self) -> int:
        with self.lock:
            return int(self.con.execute(f"SELECT id FROM {LAKE}.current_snapshot()").fetchone()[0])

    def run_transaction(
        self,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        *,
        author: str | None = None,
        message: str | None = None,
        timeout: float = 120.0,
    ) -> T:
        """Run ``work(con)`` in one transaction; retry on conflicts until ``timeout``.

        ``work`` must be safe to run again: it is re-run from the start after a conflict.
        """
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            with self.lock:
                con = self.con
                con.execute("BEGIN TRANSACTION")
                try:
                    result = work(con)
                    if author is not None or message is not None:
                        con.execute(
                            f"CALL {LAKE}.set_commit_message(?, ?)", [author or "", message or ""]
                        )
                    con.execute("COMMIT")
                    return result
                except BaseException as exc:
                    with contextlib.suppress(duckdb.Error):
                        con.execute("ROLLBACK")
                    if not _is_conflict(exc):
                        raise
                    if time.monotonic() > deadline:
                        raise CommitFailedError(
                            f"gave up after {timeout:.0f} s of conflicts with other writers: {exc}"
                        ) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.6, 1.0)

    def close(self) -> None:
        with self.lock:
            with contextlib.suppress(duckdb.Error):
                self.con.close()


def _check_sqlite_catalog(path: Path) -> None:
    """Refuse a catalog file that is not SQLite or has no DuckLake tables, before DuckDB does."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise CatalogDamagedError(f"{path} is not a readable SQLite catalog: {exc}") from exc
    if names and "ducklake_metadata" not in names:
        raise CatalogDamagedError(f"{path} is a SQLite file but not a DuckLake catalog")


def _attach_error(location: str, exc: Exception | None) -> Exception:
    text = str(exc)
    lowered = text.lower()
    if any(word in lowered for word in ("connection refused", "could not connect", "password", "role")):
        return ProjectLocationError(f"cannot reach the team catalog {location}: {text}")
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return CatalogDamagedError(f"the catalog of {location} is damaged: {text}")
    return CatalogDamagedError(f"cannot open the catalog of {location}: {text}")
