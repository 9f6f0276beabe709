"""Open a project's DuckLake catalog: embedded (SQLite file) or team (PostgreSQL).

One :class:`Store` per open project. It owns the DuckDB connection, serialises its use across
threads (the edit session commits from a background thread), and retries transactions that
conflict with other writers instead of dropping them.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

from ..errors import CatalogDamagedError, CommitFailedError, ProjectLocationError
from .catalog_gate import FOLDER as GATE_FOLDER
from .catalog_gate import CatalogGate
from .extensions import connect as connect_for_extensions
from .extensions import load_extension
from .integrity import check_before_attach, check_data_files, write_marker
from .stamp import CatalogCache, CatalogStamp
from .turns import FileTurns, PostgresTurns
from .util import sql_text

T = TypeVar("T")

LAKE = "lake"  # the alias the catalog is attached under
CATALOG_FILE = "catalog.sqlite"
DATA_DIR = "data"
TURNS_DIR = GATE_FOLDER  # the embedded commit queue (see turns.py) and the catalog's locks
TURNS_ALIAS = "exact_lab_turns"  # a team catalog attached a second time, for the catalog stamp
# Small interactive commits are written into the catalog instead of one Parquet file each.
INLINING_ROW_LIMIT = 1000
# How long a SQLite catalog access waits for another process's commit before failing: writers take
# turns, so a wait is one commit long (tens of ms); this is only the last resort.
SQLITE_BUSY_TIMEOUT_MS = 120_000
# A transaction of at most this many rows runs on one DuckDB thread (see Store._one_thread).
SMALL_TRANSACTION_ROWS = INLINING_ROW_LIMIT
# A commit waits this long for its turn (and then for conflicts with writers that do not take
# turns) before giving up; 4 x 250 single-row commits wait at most a few seconds (benchmarks/writers.py).
COMMIT_TIMEOUT = 300.0


_CONFLICT_WORDS = (
    "transaction conflict",     # DuckLake: another writer committed first
    "database is locked",       # SQLite catalog busy
    "could not serialize",      # PostgreSQL serialization failure
    "deadlock detected",
    "duplicate key value",      # two writers took the same snapshot id in PostgreSQL
    "database is busy",
)


def _is_conflict(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, duckdb.TransactionException) or any(word in text for word in _CONFLICT_WORDS)


_quote = sql_text


class Store:
    """A DuckDB connection with the project's DuckLake attached as ``lake``."""

    def __init__(self, location: str, data: str | None = None, *, read_only: bool = False):
        self.location = str(location)
        self.team = self.location.startswith(("postgresql://", "postgres://"))
        self.lock = threading.RLock()
        self._results: duckdb.DuckDBPyConnection | None = None  # holds relation() results, made on first use
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
            self.root = self._prepare_folder(Path(location), read_only)
            self.data_path = str(self.root / DATA_DIR) + "/"
        self.read_only = read_only
        self._small_reads: Store | None = None  # see small_reads(), made on first use
        self._small_reads_lock = threading.Lock()
        # reads and commits of processes sharing an embedded catalog agree before SQLite sees them
        self.gate = CatalogGate(self.root / TURNS_DIR if self.root is not None else None, create=not read_only)
        self.con = connect_for_extensions()
        self._threads = int(self.con.execute("SELECT current_setting('threads')").fetchone()[0])
        self._attach(read_only)
        # EXACT_LAB_COMMIT_TURNS=0 turns turn-taking off: only for measuring what it buys
        # (benchmarks/writers.py runs both in one go).
        self.turns = None if read_only or os.environ.get("EXACT_LAB_COMMIT_TURNS") == "0" else self._turns()
        # small tables (types, images, sets, memberships) read once and kept until a snapshot
        # touches them: see stamp.py (two catalog scans less per single-row commit)
        self.stamp = self._stamp(read_only)
        self.cache = CatalogCache(self.stamp)
        if self.root is not None:
            check_data_files(self.root / CATALOG_FILE, self.root / DATA_DIR, writable=not read_only)
            if not read_only:
                write_marker(self.root, CATALOG_FILE, DATA_DIR)

    # -- opening -----------------------------------------------------------------------------
    @staticmethod
    def _prepare_folder(root: Path, read_only: bool) -> Path:
        root = root.expanduser().absolute()
        if root.exists() and not root.is_dir():
            raise ProjectLocationError(f"{root} is a file, not a project folder")
        check_before_attach(root, root / CATALOG_FILE, root / DATA_DIR, read_only=read_only)
        if read_only:  # nothing is written: a write-protected folder is fine
            if not os.access(root, os.R_OK | os.X_OK):
                raise ProjectLocationError(f"{root} is not readable by this user")
            return root
        try:
            (root / DATA_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ProjectLocationError(f"cannot create the project folder {root}: {exc}") from exc
        if not os.access(root, os.R_OK | os.W_OK | os.X_OK):
            raise ProjectLocationError(
                f"{root} is not writable by this user; open the project with read_only=True")
        return root

    def _turns(self):
        if not self.team:
            return FileTurns(self.root / TURNS_DIR)
        # The lock lives on a connection of its own: DuckLake's own transaction reads its snapshot
        # before a lock taken inside it would be granted.
        return PostgresTurns(self.location)

    def _stamp(self, read_only: bool) -> CatalogStamp:
        if not self.team:
            return CatalogStamp.sqlite(self.root / CATALOG_FILE, read_only=read_only)
        stamp = CatalogStamp.postgres(self.location)
        if stamp is not None:
            return stamp
        attached = {r[0] for r in self.con.execute("SELECT database_name FROM duckdb_databases()").fetchall()}
        if TURNS_ALIAS not in attached:
            mode = ", READ_ONLY" if read_only else ""
            self.con.execute(f"ATTACH {_quote(self.location)} AS {TURNS_ALIAS} (TYPE postgres{mode})")
        cursor = self.con.cursor()
        return CatalogStamp(
            lambda sql: cursor.execute(f"SELECT * FROM postgres_query('{TURNS_ALIAS}', {_quote(sql)})").fetchall())

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
        if not self.team:
            # The data folder is always the project's own data/: a folder moved with mv opens.
            options.append("OVERRIDE_DATA_PATH true")
            options.append(f"META_BUSY_TIMEOUT {SQLITE_BUSY_TIMEOUT_MS}")
        if read_only:
            options.append("READ_ONLY")
        else:
            options.append(f"DATA_INLINING_ROW_LIMIT {INLINING_ROW_LIMIT}")
        sql = f"ATTACH {_quote(target)} AS {LAKE} ({', '.join(options)})"
        last: Exception | None = None
        for attempt in range(40):  # first-time creation races with other processes
            try:
                with self.gate.reading():
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
    # Reads take no turn: SQLite's busy timeout makes them wait out a commit in progress.
    def sql(self, query: str, params=None):
        """Run one statement and return the DuckDB result (a relation-like cursor)."""
        with self.lock, self.gate.reading():
            try:
                return self.con.execute(query, params) if params is not None else self.con.execute(query)
            except duckdb.Error as exc:
                _raise_as_own(exc)
                raise

    def relation(self, query: str, params=None, con=None):
        """Run a query now and hand back a DuckDB relation over its result, detached from the store.

        A lazy relation on the shared connection is evaluated wherever the caller reads it, outside
        the lock: the change poller's thread querying the same connection at that moment hung both
        threads for good (seen in the masks tests: ``proj.sql(...).df()`` against the watcher).
        ``con`` runs the query on another connection of this store (a restricted one).
        """
        with self.lock:
            with self.gate.reading():
                result = (con or self.con).sql(query, params=params)
                if result is None:  # a statement (DDL, INSERT): done, nothing to read
                    return None
                table = result.to_arrow_table()
            # the result is kept on a connection of its own (in memory, holding only such tables)
            if self._results is None:
                self._results = duckdb.connect()
            return self._results.from_arrow(table)

    def records(self, query: str, params=None) -> list[dict]:
        """The result's rows as dicts, read under the lock (the cursor is the shared connection)."""
        with self.lock:
            cursor = self.sql(query, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row)) for row in cursor.fetchall()]

    def df(self, query: str, params=None):
        # Through Arrow: BLOBs arrive as bytes (shapely reads those), not bytearrays.
        with self.lock:
            return self.sql(query, params).to_arrow_table().to_pandas()

    def fetchall(self, query: str, params=None):
        with self.lock:
            return self.sql(query, params).fetchall()

    @contextlib.contextmanager
    def reading(self):
        """The shared connection for reads made outside ``sql()`` (several statements, a registered
        table), under the store's lock and the catalog gate (catalog_gate.py)."""
        with self.lock, self.gate.reading():
            yield self.con

    @contextlib.contextmanager
    def small_reads(self):
        """A connection for small committed reads (a few row groups, outside any transaction): a
        DuckDB instance of its own on the same catalog, read-only and single-threaded, with a lock
        of its own. Why: DuckDB's scan of a 4,096 px mask region (4 row groups) spreads over both
        threads, and on the busy 2-core machine the query waited for its second thread: 61-140 ms
        per region read against 22-55 ms single-threaded in the same run (2026-12-02, load 6.5).
        It sees every commit once it is made, as another process would; reads of this store's
        open transaction belong on ``con``."""
        with self._small_reads_lock:
            if self._small_reads is None:
                reader = Store(self.location, data=self.data_path if self.team else None, read_only=True)
                reader.con.execute("SET threads = 1")
                self._small_reads = reader
            con = self._small_reads.con
            try:
                with self.gate.reading():
                    yield con
            finally:
                # a result left unread keeps its transaction, and with it a read lock on the SQLite
                # catalog that made this store's next COMMIT wait (seen in test_small_reads.py)
                con.execute("SELECT 1").fetchall()

    def current_snapshot(self) -> int:
        with self.lock:
            # fetchall, not fetchone: a result left unread keeps its SQLite read lock (catalog_gate.py)
            return int(self.sql(f"SELECT id FROM {LAKE}.current_snapshot()").fetchall()[0][0])

    def run_transaction(
        self,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        *,
        author: str | None = None,
        message: str | None = None,
        timeout: float = COMMIT_TIMEOUT,
        turn: bool = True,
        small: bool = False,
    ) -> T:
        """Run ``work(con)`` in one transaction, in this writer's turn; retry on conflicts.

        Writers take turns (turns.py), so a commit waits for the ones queued before it instead of
        racing them; conflicts remain possible only with writers that take no turn (older
        releases, other tools), and are retried until ``timeout``. ``turn=False`` is for
        work that only reads: it runs without a transaction of its own (each statement is one), so
        it never holds the SQLite catalog's read lock across statements while a writer waits to
        commit (a read transaction of session.update and a committing writer each waited for the
        other until the busy timeout, seen in test_concurrency). ``work`` must be safe to run again.
        ``small``: the transaction writes few rows (at most SMALL_TRANSACTION_ROWS): it runs on one
        DuckDB thread.
        """
        deadline = time.monotonic() + timeout
        if not turn:
            return self._retry(work, author, message, deadline, timeout, transaction=False)
        if self.turns is None:
            return self._retry(work, author, message, deadline, timeout, small=small)
        with self.turns.turn(timeout):
            return self._retry(work, author, message, deadline, timeout, small=small)

    @contextlib.contextmanager
    def _one_thread(self, small: bool):
        """Run a small transaction on one DuckDB thread (call under ``self.lock``). Why: DuckLake's
        commit of a single row is a few dozen tiny catalog queries, each handed to DuckDB's worker
        threads; on 2 cores a single-row add_annotations cost 45-50 ms of CPU with the default 2
        threads against 25-29 ms with 1 (2026-12-02, load ~7), its wall time no longer. Switching
        costs ~1 ms each way; bulk work keeps every thread."""
        if not small or self._threads <= 1:
            yield
            return
        self.con.execute("SET threads = 1")
        try:
            yield
        finally:
            self.con.execute(f"SET threads = {self._threads}")

    def _retry(self, work, author, message, deadline: float, timeout: float, transaction: bool = True,
               small: bool = False):
        delay = 0.02
        while True:
            with self.lock, self._one_thread(small):
                con = self.con
                if transaction:
                    con.execute("BEGIN TRANSACTION")
                try:
                    if not transaction:  # other writers may commit meanwhile: a reader like any
                        with self.gate.reading():
                            return work(con)
                    # in this writer's turn nobody else commits: its reads need no gate
                    result = work(con)
                    if author is not None or message is not None:
                        con.execute(
                            f"CALL {LAKE}.set_commit_message(?, ?)", [author or "", message or ""]
                        )
                    with self.gate.writing():
                        con.execute("COMMIT")
                    return result
                except BaseException as exc:
                    with contextlib.suppress(duckdb.Error):
                        con.execute("ROLLBACK")
                    if not _is_conflict(exc):
                        if isinstance(exc, duckdb.Error):
                            _raise_as_own(exc)
                        raise
                    if time.monotonic() > deadline:
                        waiting = self.turns.waiting() if self.turns is not None else 0
                        raise CommitFailedError(
                            f"gave up after {timeout:.0f} s of conflicts with other writers "
                            f"({waiting} writers were queued or committing): {exc}"
                        ) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 1.6, 1.0)

    def close(self) -> None:
        with self._small_reads_lock:
            if self._small_reads is not None:
                self._small_reads.close()
                self._small_reads = None
        with self.lock:
            with contextlib.suppress(duckdb.Error):
                self.con.close()
            stamp = getattr(self, "stamp", None)
            if stamp is not None:
                stamp.close()
            close_turns = getattr(getattr(self, "turns", None), "close", None)
            if close_turns is not None:
                close_turns()
            if self._results is not None:
                self._results.close()


_DATA_FILE = re.compile(r"""["']?(/[^"'\s]+\.parquet)["']?""")


def data_error(exc: duckdb.Error) -> Exception:
    """A DuckDB error about a damaged or unreadable data file as the project's own, naming it."""
    text = str(exc)
    match = _DATA_FILE.search(text)
    if match is None:
        return exc
    file = match.group(1)
    lowered = text.lower()
    if "no such file" in lowered or "no files found" in lowered or "does not exist" in lowered:
        return CatalogDamagedError(f"the data file {file} of this project is missing: {text}")
    if "permission denied" in lowered or "read-only" in lowered:
        return ProjectLocationError(f"cannot write the data file {file}: {text}")
    return CatalogDamagedError(f"the data file {file} of this project is damaged: {text}")


def _raise_as_own(exc: duckdb.Error) -> None:
    mapped = data_error(exc)
    if mapped is not exc:
        raise mapped from exc


def _attach_error(location: str, exc: Exception | None) -> Exception:
    text = str(exc)
    lowered = text.lower()
    if any(word in lowered for word in ("connection refused", "could not connect", "password", "role")):
        return ProjectLocationError(f"cannot reach the team catalog {location}: {text}")
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return CatalogDamagedError(f"the catalog of {location} is damaged: {text}")
    return CatalogDamagedError(f"cannot open the catalog of {location}: {text}")
