"""Which of the project's tables changed since a snapshot, read from DuckLake's own metadata tables
(``ducklake_snapshot``, ``ducklake_snapshot_changes``, ``ducklake_table``, DuckLake spec) straight
from the catalog database, not through a DuckLake scan.

Why: every scan of a DuckLake table reloads the catalog's file lists and inlined-data tables, 20-30
ms each on the SQLite catalog (measured 2026-12-02); a single-row ``add_annotations`` spent two such
scans (types, images) of its ~150 ms on tables that change a few times a project's life. Asking
the catalog database "what changed since snapshot N" costs well under a millisecond, so small
tables are read once and kept (``CatalogCache``) until a snapshot touches them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .catalog_reads import catalog_reads

# changes_made is a comma-separated list of kind:value, value a table id or a quoted name
_ENTRY = re.compile(r'([a-z_]+):(\d+|"(?:[^"]|"")*"(?:\."(?:[^"]|"")*")*)(?:,|$)')


def touched_tables(changes_made: str | None) -> tuple[set[int], bool]:
    """(table ids a snapshot's change list names, whether it created or renamed something by name).
    Text that does not parse is reported as a name change, so callers re-check everything."""
    if not changes_made:
        return set(), False
    ids: set[int] = set()
    named = False
    position = 0
    for match in _ENTRY.finditer(changes_made):
        if match.start() != position:
            return ids, True
        position = match.end()
        value = match.group(2)
        if value.isdigit():
            ids.add(int(value))
        else:
            named = True
    return ids, named or position != len(changes_made)


class CatalogStamp:
    """Reads DuckLake's snapshot list of one catalog database directly.

    ``query(sql) -> rows`` runs SQL on the catalog database (SQLite file or PostgreSQL); the SQL
    uses only integers we format ourselves, so both back ends take it as text.
    """

    def __init__(self, query: Callable[[str], list]):
        self._query = query
        self._lock = threading.Lock()
        self._table_ids: dict[str, int] = {}

    @classmethod
    def sqlite(cls, path, *, read_only: bool) -> CatalogStamp:
        # the process's one read-only connection to the catalog (catalog_reads.py: Python's copy of
        # SQLite must never write a file DuckDB's copy writes); the busy timeout waits out a commit
        reads = catalog_reads(path)
        stamp = cls(lambda sql: reads.query(sql, writable=not read_only))
        stamp.close = reads.release
        return stamp

    @classmethod
    def postgres(cls, location: str) -> CatalogStamp | None:
        """A stamp on a connection of its own to a team catalog (psycopg, autocommit); None without
        psycopg. Why not DuckDB's ``postgres_query``: 1.4 ms a query against ~0.2 ms, and a
        single-row commit asks two to four times (22 ms a call, 5.6 of them these queries,
        measured 2026-12-03)."""
        try:
            import psycopg
        except ImportError:
            return None
        holder: list = []

        def query(sql: str) -> list:
            con = holder[0] if holder else None
            if con is None or con.closed or con.broken:
                holder[:] = [psycopg.connect(location, autocommit=True)]
                con = holder[0]
            return con.execute(sql).fetchall()

        def close() -> None:
            for con in holder:
                con.close()
            holder.clear()

        stamp = cls(query)
        stamp.close = close
        return stamp

    def close(self) -> None:
        """Release the catalog database (a no-op unless the stamp opened its own connection)."""

    def latest(self) -> int:
        with self._lock:
            return int(self._query("SELECT max(snapshot_id) FROM ducklake_snapshot")[0][0])

    def changed(self, since: int, tables: Iterable[str]) -> tuple[int, bool]:
        """(latest snapshot, whether a snapshot after ``since`` changed one of ``tables``)."""
        with self._lock:
            rows = self._query(
                "SELECT s.snapshot_id, c.changes_made FROM ducklake_snapshot s "
                "LEFT JOIN ducklake_snapshot_changes c ON c.snapshot_id = s.snapshot_id "
                f"WHERE s.snapshot_id > {int(since)} ORDER BY s.snapshot_id")
            if not rows:
                return int(since), False
            latest = int(rows[-1][0])
            ids: set[int] = set()
            renamed = False
            for _, changes_made in rows:
                found, named = touched_tables(changes_made)
                ids |= found
                renamed |= named
            if renamed or not self._table_ids:
                self._table_ids = {str(name): int(tid) for tid, name in self._query(
                    "SELECT table_id, table_name FROM ducklake_table WHERE end_snapshot IS NULL")}
            wanted = list(tables)
            if renamed or any(name not in self._table_ids for name in wanted):
                return latest, True  # a table made or dropped by name: read again
            return latest, any(self._table_ids[name] in ids for name in wanted)


@dataclass
class _Entry:
    at: int
    value: Any


class CatalogCache:
    """Values read from small tables, kept until a snapshot changes one of those tables.

    ``get(key, tables, read)`` returns the kept value when no snapshot since it was read touched
    ``tables``, else calls ``read()``. ``read`` must see at least the snapshot current when
    ``get`` is called: outside a transaction, or first thing in one (DuckLake takes a
    transaction's snapshot at its first read). Our own commits are snapshots too, so they
    invalidate like anyone else's.
    """

    def __init__(self, stamp: CatalogStamp):
        self.stamp = stamp
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.reads = 0  # how often a value was read from its tables (tests check the cache works)
        # EXACT_LAB_CATALOG_CACHE=0 reads every time: only so benchmarks/writers.py can measure
        # what the cache buys in the same run
        self.enabled = os.environ.get("EXACT_LAB_CATALOG_CACHE") != "0"

    def get(self, key: str, tables: Iterable[str], read: Callable[[], Any]) -> Any:
        if not self.enabled:
            self.reads += 1
            return read()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None:
            latest, changed = self.stamp.changed(entry.at, tables)
            if not changed:
                entry.at = latest
                return entry.value
        else:
            latest = self.stamp.latest()
        value = read()  # tagged with the snapshot before the read: a commit in between re-reads
        self.reads += 1
        with self._lock:
            self._entries[key] = _Entry(latest, value)
        return value

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
