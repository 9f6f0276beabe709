"""Being told when an image's annotations change, wherever the change was made.

    watch = proj.watch(image_id, callback)      # callback(rows): current rows that changed
    watch.close()
    proj.watch_snapshots(callback)              # callback(lo, hi): the snapshot moved (any table)

A commit of this kernel is announced at once (the project's change listeners). Commits of other
kernels and machines are noticed by one polling thread per project, four times a second: for an
embedded project it compares the catalog files' size and modification time (no query at all while
nothing changes), for a team project it asks the catalog database for the newest snapshot id
(store/stamp.py: a tiny query on a cursor of its own, never the shared connection's lock). How changes are noticed is
this module's business; callers see only rows.

``schedule`` decides where the catalog is read: by default in the polling thread; a Jupyter kernel
passes a function that runs it on the kernel's main thread between cells, so the reads never meet
the user's own use of the same DuckDB connection.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

from .connection import CATALOG_FILE

log = logging.getLogger(__name__)
# Four looks a second: each is a stat of the catalog files (embedded) or one max(snapshot_id) of
# DuckLake's snapshot table on a cursor of its own (team), not a DuckLake read under the store's
# lock; at 1 s the poll was a third of alice -> bob's 3.2 s (tests/store/test_watch.py measures it).
POLL_SECONDS = 0.25
CATALOG_SUFFIXES = ("", "-wal", "-journal")


class Watch:
    """One subscription: the rows of ``image`` (all images when None) changed since the last call."""

    def __init__(self, poller: _Poller, image_id: int | None, callback: Callable, snapshot: int,
                 schedule: Callable[[Callable], None] | None):
        self._poller = poller
        self.image_id = image_id
        self.callback = callback
        self.snapshot = snapshot
        self.schedule = schedule or (lambda fn: fn())
        self.closed = False
        self._scheduled = False

    def poke(self) -> None:
        """Something may have changed: read it (through ``schedule``), once however often poked."""
        if self._scheduled or self.closed:
            return
        self._scheduled = True

        def run():
            self._scheduled = False
            try:
                self.refresh()
            except Exception as exc:  # a closed project, a busy catalog: next time
                log.debug("exact-lab: watch refresh failed: %s", exc)

        self.schedule(run)

    def refresh(self) -> None:
        """Read what changed since the last look and hand it to the callback (if anything did)."""
        project = self._poller.project_ref()
        if project is None or self.closed:
            return
        latest, rows = project.changes_since(self.snapshot, image=self.image_id)
        if latest == self.snapshot:
            return
        self.snapshot = latest
        if len(rows):  # commits of other images move the snapshot but say nothing here
            self.callback(rows)

    def close(self) -> None:
        self.closed = True
        self._poller.remove(self)


class SnapshotWatch(Watch):
    """One subscription to the project's snapshots: ``callback(lo, hi)`` when the current snapshot
    moved from ``lo`` to ``hi``, whatever the commits in between wrote."""

    def refresh(self) -> None:
        project = self._poller.project_ref()
        if project is None or self.closed:
            return
        latest = project._store.current_snapshot()
        if latest == self.snapshot:
            return
        # moved on only once the callback has read what changed: a busy catalog makes it raise,
        # and the next look tries the same range again instead of losing it
        self.callback(self.snapshot, latest)
        self.snapshot = latest


class _Poller:
    """The project's change listener and its polling thread, shared by every watch."""

    def __init__(self, project):
        self.project_ref = weakref.ref(project)
        self.watches: list[Watch] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        root = project._store.root
        # the SQLite catalog and its journal change on every commit of any process
        self.files = [] if root is None else [Path(root) / (CATALOG_FILE + s) for s in CATALOG_SUFFIXES]
        self.stamp = self._stamp(project)
        project.on_change(self._on_commit)
        self.thread = threading.Thread(target=self._poll, name="exact-lab-watch", daemon=True)
        self.thread.start()

    def add(self, watch: Watch) -> None:
        with self.lock:
            self.watches.append(watch)

    def remove(self, watch: Watch) -> None:
        with self.lock:
            if watch in self.watches:
                self.watches.remove(watch)

    def _stamp(self, project):
        if not self.files:  # team catalog: the newest snapshot id, asked of the catalog database
            try:
                return project._store.stamp.latest()
            except Exception:  # unreachable for a moment: try again next time
                return None
        out = []
        for f in self.files:
            try:
                st = f.stat()
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return out

    def _on_commit(self, change) -> None:
        self._schedule()

    def _poll(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            project = self.project_ref()
            if project is None:
                return
            with self.lock:
                idle = not self.watches
            if idle:
                continue
            stamp = self._stamp(project)
            del project
            if stamp != self.stamp:
                self.stamp = stamp
                self._schedule()

    def _schedule(self) -> None:
        with self.lock:
            watches = list(self.watches)
        for watch in watches:
            watch.poke()


_pollers: dict[int, _Poller] = {}
_pollers_lock = threading.Lock()


class WatchMixin:
    def watch(self, image=None, callback: Callable | None = None, *,
              schedule: Callable[[Callable], None] | None = None) -> Watch:
        """Call ``callback(rows)`` whenever annotations of ``image`` (any image when None) change:
        ``rows`` are their current states (a DataFrame like ``annotations(include_deleted=True)``),
        committed by this kernel or by any other. Returns a handle; ``close()`` it to stop."""
        if callback is None:
            raise TypeError("watch() needs a callback")
        image_id = None if image is None else int(self.image(image)["image_id"])
        poller = self._poller()
        watch = Watch(poller, image_id, callback, self._store.current_snapshot(), schedule)
        poller.add(watch)
        return watch

    def watch_snapshots(self, callback: Callable[[int, int], None], *,
                        schedule: Callable[[Callable], None] | None = None) -> SnapshotWatch:
        """Call ``callback(lo, hi)`` whenever the project's current snapshot moves from ``lo`` to
        ``hi``, by a commit of this kernel or of any other (noticed as ``watch`` notices them);
        for rooms that read what changed in their own tables (the masks' tiles). Returns a
        handle; ``close()`` it to stop."""
        poller = self._poller()
        watch = SnapshotWatch(poller, None, callback, self._store.current_snapshot(), schedule)
        poller.add(watch)
        return watch

    def _poller(self) -> _Poller:
        with _pollers_lock:
            poller = _pollers.get(id(self))
            if poller is None or poller.project_ref() is not self:
                poller = _pollers[id(self)] = _Poller(self)
        return poller
