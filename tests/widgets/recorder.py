"""Widgets without a browser: a viewer whose messages to the front end are recorded."""

from __future__ import annotations

import numpy as np


class Recorder:
    """Collects what a viewer sends to the browser (content, buffers as bytes)."""

    def __init__(self, viewer):
        self.messages: list[tuple[dict, list]] = []
        viewer.send = lambda content, buffers=None: self.messages.append((content, [bytes(b) for b in (buffers or [])]))

    def of(self, kind):
        return [(m, b) for m, b in self.messages if m.get("type") == kind]

    def clear(self):
        self.messages.clear()


def browser_edit(viewer, seq, ops, coords=()):
    """What the front end sends for edits: ops + one float64 buffer of coordinates."""
    viewer._on_msg(viewer, {"type": "edits", "seq": seq, "ops": ops}, [memoryview(np.asarray(coords, np.float64))])
