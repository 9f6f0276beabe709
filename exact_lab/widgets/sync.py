"""Keeping every viewer of an image up to date.

- Same kernel: an edit made in one viewer is forwarded at once to the other viewers of the same
  image (before the store has committed it).
- Committed rows, from this kernel or any other: one ``project.watch`` per image and project
  hands them to every viewer of the group, which reconciles them with what it shows. The watch
  reads the catalog on the kernel's main thread, between cells (``call_soon``), so those reads
  never meet the user's own calls on the same DuckDB connection.
"""

from __future__ import annotations

import logging
import threading
import weakref

log = logging.getLogger(__name__)


class Group:
    """The viewers of one image (of one project, or of one in-memory backend)."""

    def __init__(self, key, project=None, image_id=None):
        self.key = key
        self.viewers: weakref.WeakSet = weakref.WeakSet()
        self.watch = None
        if project is not None:
            self.watch = project.watch(image_id, self.committed, schedule=call_soon)

    def forward(self, origin, rows) -> None:
        """Edits applied by ``origin``: show them in the other viewers now."""
        for v in list(self.viewers):
            if v is not origin:
                v._remote_rows(rows)

    def committed(self, rows) -> None:
        for v in list(self.viewers):
            v._committed_rows(rows)


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


_groups: dict = {}
_lock = threading.Lock()


def join(viewer, backend) -> Group:
    """Register ``viewer`` as showing ``backend``'s image; returns its group."""
    key = backend.key
    with _lock:
        group = _groups.get(key)
        if group is None:
            project = getattr(backend, "project", None)
            group = _groups[key] = Group(key, project, getattr(backend, "image_id", None))
        group.viewers.add(viewer)
    return group


def viewers_of(project, image_id) -> list:
    """The open viewers of a project's image in this kernel."""
    with _lock:
        group = _groups.get(("project", id(project), int(image_id)))
        return [] if group is None else list(group.viewers)


def leave(viewer, group: Group | None) -> None:
    if group is None:
        return
    with _lock:
        group.viewers.discard(viewer)
        if not len(group.viewers) and _groups.get(group.key) is group:
            del _groups[group.key]
            if group.watch is not None:
                group.watch.close()
