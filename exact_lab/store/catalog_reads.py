"""Python's sqlite3 reading the embedded catalog in a process where DuckDB writes it.

DuckDB's sqlite extension carries a copy of SQLite of its own, and two copies of SQLite in one
process do not see each other's file locks (POSIX locks belong to the process, not to a
connection); SQLite's own documentation lists that as a way to corrupt a database. Seen here:

- a read-write connection of Python's copy took this process's own commit in progress (DuckDB's
  copy writing the catalog from another thread) for the hot journal of a dead writer and played
  it back: DuckDB's COMMIT failed with "disk I/O error" and the catalog was malformed
  (tests/store/test_catalog_reads.py does that to a plain SQLite file);
- closing any connection to the file drops every lock the process holds on it, the other copy's
  included.

So every Python-side connection to a catalog is read-only and never plays a journal back (DuckDB's
copy does that, see ``playback``), and there is one per catalog file per process, opened once and
closed only when the last user of that file lets it go.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from ..errors import CatalogDamagedError
from .catalog_gate import CatalogGate

# As long as DuckDB waits for a commit of another process in progress (connection.py).
BUSY_SECONDS = 120.0
# A journal that looks hot to Python's copy of SQLite is, most often, a commit of this process in
# progress (a few ms); one that outlives this many seconds belongs to a writer that died.
OWN_COMMIT_SECONDS = 3.0

_registry: dict[str, CatalogReads] = {}
_registry_lock = threading.Lock()


def journal_of(catalog: Path) -> Path:
    return catalog.with_name(catalog.name + "-journal")


def unfinished_commit_message(catalog: Path) -> str | None:
    """What to tell a read-only reader who finds the catalog's hot journal (None: no journal)."""
    journal = journal_of(Path(catalog))
    if not journal.exists() or journal.stat().st_size == 0:
        return None
    return (f"the catalog {catalog} has an unfinished commit of a writer that stopped (its journal "
            f"{journal}); open the project once writable (read_only=False) to roll it back, then "
            "read-only works again")


def playback(catalog: Path) -> None:
    """Let DuckDB's copy of SQLite read the catalog once: it rolls back the journal of a writer that
    died, and it sees this process's own commits for what they are. A read it cannot make now (a
    commit holding the catalog) is left to the caller's next try."""
    import duckdb

    from .extensions import connect, load_extension
    from .util import sql_text

    con = connect()
    try:
        load_extension(con, "sqlite_scanner")
        con.execute(f"ATTACH {sql_text(str(catalog))} AS journal_playback (TYPE sqlite)")
        con.execute("SELECT count(*) FROM journal_playback.ducklake_metadata").fetchall()
    except duckdb.Error:
        pass
    finally:
        con.close()


class CatalogReads:
    """The process's one read-only sqlite3 connection to a catalog file (use ``catalog_reads``)."""

    def __init__(self, catalog: Path):
        self.catalog = catalog
        self.users = 0
        self._lock = threading.Lock()
        self.gate = CatalogGate.of_catalog(catalog)
        self._con = sqlite3.connect(catalog.absolute().as_uri() + "?mode=ro", uri=True, timeout=BUSY_SECONDS,
                                    check_same_thread=False)

    def query(self, sql: str, *, writable: bool) -> list:
        """Rows of ``sql``. ``writable``: this process may write the project, so a dead writer's
        journal is rolled back (by DuckDB) instead of reported."""
        deadline = time.monotonic() + OWN_COMMIT_SECONDS
        played = False
        while True:
            try:
                with self.gate.reading(), self._lock:  # the gate first: see catalog_gate.py
                    return self._con.execute(sql).fetchall()
            except sqlite3.OperationalError as exc:
                if getattr(exc, "sqlite_errorname", "") != "SQLITE_READONLY_ROLLBACK":
                    raise
                if writable and not played:
                    playback(self.catalog)
                    played = True
                    continue
                if time.monotonic() > deadline:
                    raise CatalogDamagedError(unfinished_commit_message(self.catalog) or str(exc)) from exc
                time.sleep(0.005)  # our own commit in progress: it ends in milliseconds
            except sqlite3.DatabaseError as exc:
                # a read whose lock the other copy's close dropped may see a page mid-write: read again
                if "malformed" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    def release(self) -> None:
        with _registry_lock:
            self.users -= 1
            if self.users > 0:
                return
            _registry.pop(str(self.catalog), None)
            self._con.close()


def catalog_reads(catalog) -> CatalogReads:
    """The shared reader of ``catalog`` (an existing file), one more user of it; ``release()`` it."""
    catalog = Path(catalog).absolute()
    with _registry_lock:
        reads = _registry.get(str(catalog))
        if reads is None:
            reads = CatalogReads(catalog)
            _registry[str(catalog)] = reads
        reads.users += 1
        return reads
