"""Widgets without a browser: a viewer whose messages to the front end are recorded."""

from __future__ import annotations

import time

import numpy as np

from exact_lab.widgets.steps import decode_rings


def eventually(check, timeout: float = 10.0):
    """Run ``check`` until it passes; after ``timeout`` seconds its AssertionError stands.

    What a viewer does on a commit (reconcile its shapes, pass map edits to the sources, recount
    the HPF frame) runs when the store's watch hears of the commit: at once when the commit's own
    listener gets there first, else from the watch's polling thread a moment later, which outside
    a kernel nothing waits for (two such tests failed in CI, 1 run in 5-8 each locally)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


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


def chunk_vertices(head, buffers) -> np.ndarray:
    """The float32 coordinates the browser holds for one chunk (polygon vertices decoded from their
    steps as js/src/data/steps.ts does; tests/widgets/test_steps.py proves the two agree)."""
    f32 = np.frombuffer(buffers[0], np.float32)
    if head["kind"] != "polygon":
        return f32
    starts = f32.reshape(-1, 2)
    steps = np.frombuffer(buffers[3], np.int16).reshape(-1, 2)
    return decode_rings(starts, steps, np.frombuffer(buffers[1], np.uint32)).reshape(-1)


def browser_polygons(messages) -> dict:
    """{browser id: float32 (n, 2) ring vertices of its first ring} for the polygon chunks sent."""
    out = {}
    for head, buffers in messages:
        if head["kind"] != "polygon":
            continue
        xy = chunk_vertices(head, buffers).reshape(-1, 2)
        off, g = np.frombuffer(buffers[1], np.uint32), np.frombuffer(buffers[2], np.uint32)
        for i in range(head["count"]):
            out[head["id_start"] + i] = xy[off[g[i]]:off[g[i] + 1]]
    return out
