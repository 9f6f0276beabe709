"""When processes may touch an embedded project's SQLite catalog: readers together, a commit alone.

DuckDB's copy of SQLite waits for a lock in whole seconds (it is built without usleep): a commit
that met another process's read, or a read that met a commit, slept 1.00 s (measured
2026-12-02: a DuckDB write behind another process's 50 ms read took 1.004 s). With 4 writers,
1-3 % of commits took a second, and opening a project beside them 10 s; 4 x 250 single-row
commits took 104 s before the gate and 43 s with it, in the same hour (docs/store.md).
So the catalog's users agree before SQLite sees them, with ``flock``, whose waits end the moment
the lock is free: a read statement holds a shared lock, a COMMIT the exclusive one. A second lock,
the gate, lets a waiting commit in before new readers (flock has no writer preference of its own,
so overlapping readers could keep a commit out indefinitely).

Lock order, to keep clear of deadlocks: a store's lock, then this gate, then anything else (the
shared sqlite3 reader's lock); nothing that waits for a store's lock or commits may run while a
thread is reading. Each use opens its own descriptors, so threads of one process exclude each
other too. A folder
where the lock files cannot be made (a write-protected project opened read-only) goes without.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from pathlib import Path

# Beside the catalog, in the folder of the commit queue (turns.py).
FOLDER = ".exact-lab-turns"
GATE_FILE = "catalog-gate"
LOCK_FILE = "catalog-lock"

_reading = threading.local()  # per thread: how deep in reading() of each catalog
# How long a reader waits at the gate, and a commit for the readers under way, before going on
# without: a DuckDB result left unread holds its SQLite read lock after its statement (and its
# gate) ended, so a commit holding the gate could wait in SQLite for a reader that waits at the
# gate for it (seen in test_watch: both waited for good). Past the bound, SQLite sorts it out in
# its own one-second steps, as before the gate.
READ_WAIT = 0.2
WRITE_WAIT = 2.0


class CatalogGate:
    """The two locks of one catalog (``folder``: its FOLDER); ``create`` makes their files."""

    def __init__(self, folder: Path | None, *, create: bool):
        """``folder`` None: no locks (a team catalog: PostgreSQL waits well on its own)."""
        self.folder = folder
        if folder is None:
            self.enabled = False
            return
        self.gate_path = Path(folder) / GATE_FILE
        self.lock_path = Path(folder) / LOCK_FILE
        if create:
            with contextlib.suppress(OSError):
                Path(folder).mkdir(parents=True, exist_ok=True)
                for path in (self.gate_path, self.lock_path):
                    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o666))
        self.enabled = self._files_exist()

    def _files_exist(self) -> bool:
        return self.folder is not None and self.gate_path.exists() and self.lock_path.exists()

    @classmethod
    def of_catalog(cls, catalog: Path, *, create: bool = False) -> CatalogGate:
        return cls(Path(catalog).parent / FOLDER, create=create)

    def _open(self, path: Path) -> int | None:
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            return None

    @contextlib.contextmanager
    def reading(self):
        """Held while a statement may read the catalog file. A thread already reading this catalog
        (through any gate of it) goes on: waiting at the gate behind a commit that waits for this
        thread's own read would never end."""
        if not self.enabled:
            self.enabled = self._files_exist()  # made by a writer since
        if not self.enabled:
            yield
            return
        key = str(self.lock_path)
        depth = _reading.__dict__.setdefault("depth", {})
        if depth.get(key):
            depth[key] += 1
            try:
                yield
            finally:
                depth[key] -= 1
            return
        depth[key] = 1
        try:
            with self._read_locks():
                yield
        finally:
            depth[key] = 0

    @contextlib.contextmanager
    def _read_locks(self):
        gate, lock = self._open(self.gate_path), self._open(self.lock_path)
        try:
            # waits while a commit is waiting or under way
            if gate is not None and lock is not None and _flock(gate, fcntl.LOCK_SH, READ_WAIT):
                _flock(lock, fcntl.LOCK_SH, READ_WAIT)
                os.close(gate)
                gate = None
            yield
        finally:
            for fd in (gate, lock):
                if fd is not None:
                    os.close(fd)  # closing drops the flock

    @contextlib.contextmanager
    def writing(self):
        """Held around a COMMIT: new readers wait at the gate, readers under way finish first."""
        if not self.enabled:
            yield
            return
        gate, lock = self._open(self.gate_path), self._open(self.lock_path)
        try:
            if gate is not None and lock is not None and _flock(gate, fcntl.LOCK_EX, WRITE_WAIT):
                _flock(lock, fcntl.LOCK_EX, WRITE_WAIT)
            yield
        finally:
            for fd in (lock, gate):
                if fd is not None:
                    os.close(fd)


def _flock(fd: int, kind: int, seconds: float) -> bool:
    """Take the flock within ``seconds`` (looking every 0.5-2 ms); False if it stayed taken."""
    deadline = time.monotonic() + seconds
    delay = 0.0005
    while True:
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() > deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 1.5, 0.002)
