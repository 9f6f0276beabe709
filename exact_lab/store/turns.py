"""Turn-taking for writers: commits to one project happen one at a time, in arrival order.

Without it, DuckLake's optimistic commits under steady contention let one writer lose every race
until its deadline (issue 9: 67-145 of 1,000 single-row commits lost with four writers). A writer
now waits its turn instead of retrying.

- Embedded catalog: a queue of lock files beside the catalog (a CLH queue). Each writer creates a
  node file and holds an ``flock`` on it while it waits and while it commits; it appends itself
  as the queue's tail and waits until its predecessor's lock is free. The kernel drops the locks of
  a killed process, so ``kill -9`` never leaves the queue stuck; a node that died while still
  waiting is skipped (its successor waits on that node's own predecessor instead).
- PostgreSQL catalog: ``pg_advisory_xact_lock`` on a connection of its own, which PostgreSQL
  grants in queue order and drops when the holder's connection goes away.

Reads never take a turn. A thread that holds its store's turn can ask again without waiting.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import threading
import time
import uuid as _uuid
from pathlib import Path

from ..errors import CommitFailedError

GRANTED = "granted"
TAIL = "tail"
GUARD = "guard"
# The advisory-lock key of exact-lab commits in a team catalog (any fixed 64-bit number).
PG_TURN_KEY = 0x6578_6163_746C  # "exactl"


class TurnTimeoutError(CommitFailedError):
    """Waited longer than the deadline for a turn to commit."""


class _Reentrant:
    """Per-thread depth, so a thread that holds the turn can re-enter without deadlocking."""

    def __init__(self):
        self._local = threading.local()

    @property
    def depth(self) -> int:
        return getattr(self._local, "depth", 0)

    @depth.setter
    def depth(self, value: int) -> None:
        self._local.depth = value


class FileTurns(_Reentrant):
    """The FIFO queue of an embedded project, in ``folder`` (created on first use)."""

    def __init__(self, folder: Path):
        super().__init__()
        self.folder = Path(folder)
        self._counter = 0
        self._counter_lock = threading.Lock()

    @contextlib.contextmanager
    def turn(self, timeout: float):
        if self.depth:
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
            return
        fd = self._wait(timeout)
        self.depth = 1
        try:
            yield
        finally:
            self.depth = 0
            os.close(fd)  # drops the flock: the successor goes next

    # -- the queue -------------------------------------------------------------------------------
    def _node_name(self) -> str:
        with self._counter_lock:
            self._counter += 1
            count = self._counter
        return f"n-{os.getpid()}-{threading.get_ident()}-{count}-{_uuid.uuid4().hex[:8]}"

    def _enqueue(self) -> tuple[int, str, str]:
        """Create and lock my node, make it the tail; returns (fd, my name, predecessor name)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = self._node_name()
        fd = os.open(self.folder / name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
        guard = os.open(self.folder / GUARD, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(guard, fcntl.LOCK_EX)  # held for microseconds: read and replace the tail
            try:
                predecessor = (self.folder / TAIL).read_text().strip()
            except FileNotFoundError:
                predecessor = ""
            os.write(fd, (predecessor + "\n").encode())
            temporary = self.folder / f".tail-{name}"
            temporary.write_text(name)
            os.replace(temporary, self.folder / TAIL)
        finally:
            os.close(guard)
        return fd, name, predecessor

    def _wait(self, timeout: float) -> int:
        fd, name, predecessor = self._enqueue()
        deadline = time.monotonic() + timeout
        passed = []
        delay = 0.0005
        try:
            while predecessor:
                path = self.folder / predecessor
                try:
                    other = os.open(path, os.O_RDONLY)
                except FileNotFoundError:
                    break  # a node from long ago, cleaned up: nobody before me
                try:
                    # Polled rather than blocking, so the deadline holds; 0.5-10 ms between looks
                    # adds well under a commit's own cost (~20-40 ms) to each hand-over.
                    while not _try_lock(other, fcntl.LOCK_SH):
                        if time.monotonic() > deadline:
                            raise TurnTimeoutError(self._timeout_message(timeout, predecessor))
                        time.sleep(delay)
                        delay = min(delay * 1.5, 0.01)
                    lines = os.read(other, 4096).decode(errors="replace").splitlines()
                finally:
                    os.close(other)
                passed.append(path)
                if GRANTED in lines[1:]:
                    break  # it had its turn and is done (or died committing): mine now
                # it died while waiting: its place in the queue is its predecessor's
                predecessor = lines[0].strip() if lines else ""
            os.write(fd, (GRANTED + "\n").encode())
        except BaseException:
            os.close(fd)  # leave the queue: my successor skips my (ungranted) node
            raise
        for path in passed:  # only a node's successor removes it
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return fd

    def waiting(self) -> int:
        """How many writers hold a node (waiting or committing) right now."""
        count = 0
        with contextlib.suppress(FileNotFoundError):
            for path in self.folder.glob("n-*"):
                try:
                    handle = os.open(path, os.O_RDONLY)
                except FileNotFoundError:
                    continue
                try:
                    if _try_lock(handle, fcntl.LOCK_SH):
                        continue
                    count += 1
                finally:
                    os.close(handle)
        return count

    def _timeout_message(self, timeout: float, predecessor: str) -> str:
        pid = predecessor.split("-")[1] if predecessor.count("-") >= 2 else "?"
        return (f"waited {timeout:.0f} s for a turn to commit to {self.folder.parent}: "
                f"{self.waiting()} writers were queued or committing; the writer ahead is process {pid}")


def _try_lock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise


class PostgresTurns(_Reentrant):
    """Turns of a team catalog: one advisory lock, granted by PostgreSQL in queue order.

    ``connection`` is a DuckDB cursor of its own with the catalog database attached as ``alias``
    (a plain postgres attach): the lock lives in that cursor's open transaction and ends with it.
    """

    def __init__(self, connection, alias: str, location: str):
        super().__init__()
        self.con = connection
        self.alias = alias
        self.location = location
        self._lock = threading.Lock()  # one cursor: one holder in this process at a time

    @contextlib.contextmanager
    def turn(self, timeout: float):
        if self.depth:
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1
            return
        if not self._lock.acquire(timeout=timeout):
            raise TurnTimeoutError(f"waited {timeout:.0f} s for a turn to commit to {self.location} "
                                   "behind another thread of this process")
        try:
            self._take(timeout)
            self.depth = 1
            try:
                yield
            finally:
                self.depth = 0
                with contextlib.suppress(Exception):
                    self.con.execute("COMMIT")  # ends the transaction: the lock goes to the next
        finally:
            self._lock.release()

    def _take(self, timeout: float) -> None:
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            # lock_timeout makes the wait end with an error at the deadline instead of hanging
            con.execute(f"CALL postgres_execute('{self.alias}', "
                        f"'SET LOCAL lock_timeout = {int(timeout * 1000)}; "
                        f"SELECT pg_advisory_xact_lock({PG_TURN_KEY})')")
        except Exception as exc:
            with contextlib.suppress(Exception):
                con.execute("ROLLBACK")
            if "lock timeout" in str(exc).lower():
                raise TurnTimeoutError(
                    f"waited {timeout:.0f} s for a turn to commit to {self.location}: "
                    f"{self.waiting()} writers were queued or committing") from exc
            raise

    def waiting(self) -> int:
        try:
            rows = self.con.execute(
                f"SELECT count(*) FROM postgres_query('{self.alias}', "
                f"'SELECT pid FROM pg_locks WHERE locktype = ''advisory'' "
                f"AND ((classid::bigint << 32) | objid::bigint) = {PG_TURN_KEY}')").fetchall()
            return int(rows[0][0])
        except Exception:
            return -1
