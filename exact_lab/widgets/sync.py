"""Keeping every viewer of an image up to date.

- Same kernel: an edit made in one viewer is forwarded at once to the other viewers of the same
  image; after the store commits it (``project.on_change``), every viewer gets the committed rows.
- Other kernels: a background thread watches the catalog about once a second (for an embedded
  project, the catalog file's modification time, which costs no query) and then asks
  ``project.changes_since(snapshot, image)``, so their edits show within two seconds.

Queries on the project run on the kernel's main thread (scheduled on its event loop, between
cells), never concurrently with the user's own calls on the same DuckDB connection.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from pathlib import Path

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0


class Group:
    """The viewers of one image (of one project, or of one in-memory backend)."""

    def __init__(self, key, project=None, image_id=None):
        self.key = key
        self.project = project
        self.image_id = image_id
        self.viewers: weakref.WeakSet = weakref.WeakSet()
        self.lock = threading.Lock()
        self.snapshot = None

    def forward(self, origin, rows) -> None:
        """Edits applied by ``origin``: show them in the other viewers now."""
        for v in list(self.viewers):
            if v is not origin:
                v._push_rows(rows, reason="remote")

    def refresh(self) -> None:
        """Fetch what changed in the store since the last look and hand it to every viewer."""
        if self.project is None:
            return
        with self.lock:
            if self.snapshot is None:
                self.snapshot = self.project._store.current_snapshot()
                return
            latest, rows = self.project.changes_since(self.snapshot, image=self.image_id)
            if latest == self.snapshot:
                return
            self.snapshot = latest
        for v in list(self.viewers):
            v._on_committed(rows)


def call_soon(fn) -> None:
    """Run ``fn`` on the kernel's main thread as soon as it is idle (now, outside a kernel)."""
    loop = None
    try:
        from IPython import get_ipython

        loop = getattr(getattr(get_ipython(), "kernel", None), "io_loop", None)
    except Exception:
        loop = None
    if loop is None:
        fn()
    else:
        loop.add_callback(fn)


class _ProjectWatch:
    """One per project: its change listener and the polling thread for other kernels."""

    def __init__(self, project):
        self.project_ref = weakref.ref(project)
        self.groups: dict = {}
        self.stop = threading.Event()
        self.scheduled = False
        root = getattr(getattr(project, "_store", None), "root", None)
        # an embedded project's catalog: SQLite file (and its journal) change on every commit
        self.files = [Path(root) / n for n in os.listdir(root) if n.endswith((".sqlite", ".sqlite-wal", ".db", ".db-wal"))] if root else []
        self.stamp = self._stamp()
        project.on_change(self._on_change)
        self.thread = threading.Thread(target=self._poll, name="exact-lab-viewer-sync", daemon=True)
        self.thread.start()

    def _stamp(self):
        out = []
        for f in self.files:
            try:
                st = f.stat()
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return out

    def _on_change(self, change) -> None:
        self._schedule(change.get("image_ids"))

    def _poll(self) -> None:
        while not self.stop.wait(POLL_SECONDS):
            if self.project_ref() is None:
                return
            if self.files:
                stamp = self._stamp()
                if stamp == self.stamp:
                    continue
                self.stamp = stamp
            if any(len(g.viewers) for g in list(self.groups.values())):
                self._schedule(None)

    def _schedule(self, images) -> None:
        if self.scheduled:
            return
        self.scheduled = True

        def run():
            self.scheduled = False
            for g in list(self.groups.values()):  # changes_since is cheap: refresh them all
                if len(g.viewers):
                    try:
                        g.refresh()
                    except Exception as exc:  # a closed project, a busy catalog: next time
                        log.debug("exact-lab: viewer refresh failed: %s", exc)

        call_soon(run)


_watches: dict[int, _ProjectWatch] = {}
_groups: dict = {}
_lock = threading.Lock()


def join(viewer, backend) -> Group:
    """Register ``viewer`` as showing ``backend``'s image; returns its group."""
    key = backend.key
    with _lock:
        g = _groups.get(key)
        if g is None:
            project = getattr(backend, "project", None)
            g = _groups[key] = Group(key, project, getattr(backend, "image_id", None))
            if project is not None:
                watch = _watches.get(id(project))
                if watch is None or watch.project_ref() is not project:
                    watch = _watches[id(project)] = _ProjectWatch(project)
                watch.groups[key] = g
        g.viewers.add(viewer)
    if g.project is not None and g.snapshot is None:
        g.refresh()  # remember the snapshot the viewer's data starts from
    return g


def leave(viewer, group: Group | None) -> None:
    if group is not None:
        group.viewers.discard(viewer)
