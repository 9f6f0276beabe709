"""Polygon vertices as int16 steps for the browser (the other half is js/src/data/steps.ts).

A ring's vertices go as runs: each run starts with an exact float32 vertex (``starts``), and every
further vertex of the run is an int16 (dx, dy) step on a 1/1024 px grid (``steps``), 4 bytes
instead of 8: a million 16-vertex cells are 72 MB instead of 136 MB on the wire. Every ring starts
a run; so does a vertex too far from the one before for an int16 step (32 px), or not finite: its
step is ``ESCAPE`` and it is read from ``starts``. The steps round the offset from the run's start
(the float32 value the browser holds), not the previous rounded vertex, so the error never builds
up: a decoded vertex is within 1/2048 px and a float32 rounding of the exact one, far inside the
map sync's 0.01 px (``exact_lab.analysis.sync.GEOMETRY_TOLERANCE``; at 1/64 px from vertex to
vertex a retype counted as a move).
"""

from __future__ import annotations

import numpy as np

STEP_SCALE = 1024  # grid steps per level-0 pixel
ESCAPE = -32768  # a step's x: this vertex starts a new run (its value is in ``starts``)
_STEP_LIMIT = 32766  # |dx| * STEP_SCALE up to this gives a rounded step within +-32767


def encode_rings(xy: np.ndarray, ring_offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(starts float32 (runs, 2), steps int16 (vertices - rings, 2)) for vertices ``xy`` (float64
    (n, 2)) cut into rings at ``ring_offsets`` (rings + 1, from 0)."""
    lengths = np.diff(ring_offsets)
    firsts = ring_offsets[:-1][lengths > 0]
    # first as if every ring were one run (cell outlines are): 40 ms a chunk of 65,536 cells,
    # against 100 ms for finding the runs first
    starts = xy[firsts].astype(np.float32)
    q = np.repeat(starts.astype(np.float64), lengths[lengths > 0], axis=0)
    np.subtract(xy, q, out=q)
    q *= STEP_SCALE
    np.rint(q, out=q)
    step = q[1:] - q[:-1]
    step[firsts[1:] - 1] = 0  # from one ring's last vertex to the next ring's first: not sent
    if len(step) and not (step.min() >= -32767 and step.max() <= 32767):  # (NaN fails too)
        return _encode_runs(xy, firsts)
    not_first = np.ones(len(xy), bool)
    not_first[firsts] = False
    # selected as one int32 per (dx, dy): a boolean pick of float64 rows took 60 ms of the 100
    picked = step.astype(np.int16).view(np.int32).reshape(-1)[not_first[1:]]
    return starts, picked.view(np.int16).reshape(-1, 2)


def _encode_runs(xy: np.ndarray, firsts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``encode_rings`` where some steps are too long for int16 or not finite: those start runs."""
    n = len(xy)
    first = np.zeros(n, bool)
    first[firsts] = True
    jump = np.zeros(n, bool)
    if n > 1:
        near = np.abs(xy[1:] - xy[:-1]) * STEP_SCALE <= _STEP_LIMIT  # False for NaN: it jumps
        jump[1:] = ~(near[:, 0] & near[:, 1])
        jump &= ~first
    run_start = first | jump
    starts = np.compress(run_start, xy, axis=0).astype(np.float32)
    run = np.cumsum(run_start) - 1
    with np.errstate(invalid="ignore"):  # non-finite vertices are starts; their steps are escapes
        q = np.rint((xy - starts.astype(np.float64)[run]) * STEP_SCALE)
        step = np.empty_like(q)
        step[0] = 0
        np.subtract(q[1:], q[:-1], out=step[1:])
        step[run_start] = (ESCAPE, 0)
        steps = np.compress(~first, step, axis=0).astype(np.int16)
    return starts, steps


def decode_rings(starts: np.ndarray, steps: np.ndarray, ring_offsets: np.ndarray) -> np.ndarray:
    """float32 (n, 2) vertices from ``encode_rings``' output, computed as the browser does."""
    n = int(ring_offsets[-1])
    first = np.zeros(n, bool)
    ring_starts = ring_offsets[:-1]
    first[ring_starts[ring_starts < ring_offsets[1:]]] = True
    step = np.zeros((n, 2), np.float64)
    step[~first] = steps
    run_start = first.copy()
    run_start[~first] = steps[:, 0] == ESCAPE
    step[run_start] = 0
    run = np.cumsum(run_start) - 1
    q = np.cumsum(step, axis=0)
    q -= q[np.flatnonzero(run_start)][run]  # offsets from each run's start
    return (np.asarray(starts, np.float32).astype(np.float64)[run] + q / STEP_SCALE).astype(np.float32)
