"""The viewer's pixel-labelling tools on the kernel side: brush strokes, region fills and
superpixel fills from the browser (rasterised here, so what is stored is exactly the stroke's polyline and
radius), their undo / redo, clear, superpixels of the view, and "save and next".

The widget binds it with a ``send(message, buffers)`` callable; everything else goes through
the project's public API.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import InvalidValueError
from ..slides import open_slide
from ..widgets.protocol import message
from .mixin import op_box
from .superpixels import Superpixels
from .tiles import TILE, MaskOp


class MaskTools:
    def __init__(self, project, image_id, send, schedule=None):
        self.project = project
        self.image_id = int(image_id)
        self._send = send
        self._schedule = schedule
        self.current: Superpixels | None = None
        self._done: list[tuple[MaskOp, MaskOp]] = []   # (op, what it overwrote), newest last
        self._undone: list[tuple[MaskOp, MaskOp]] = []
        # this viewer's edits are announced at once (the queue's commit, clear); every commit of
        # any kernel through the watch, less the tiles this viewer announced already
        self._lock = threading.Lock()
        self._announced: dict[int, set | None] = {}  # frame -> tiles (None: all of them)
        project._mask_queue().on_commit(self._committed)
        self._watch = project.watch_masks(self.image_id, self._remote, schedule=schedule)

    def set_image(self, image_id) -> None:
        self.image_id = int(image_id)
        self.current = None
        self._done.clear()
        self._undone.clear()
        self._watch.close()
        self._watch = self.project.watch_masks(self.image_id, self._remote, schedule=self._schedule)

    def close(self) -> None:
        """The viewer closed: stop being told of commits (ours and other kernels')."""
        self._watch.close()
        self.project._mask_queue().off_commit(self._committed)

    # -- painting ---------------------------------------------------------------------------------
    def stroke(self, l0_points, radius: float, type_, frame: int = 0) -> MaskOp | None:
        op = self.project.stroke_op(self.image_id, l0_points, radius, type_ or None, frame)
        return self._paint(op)

    def fill_region(self, l0_points, type_, frame: int = 0) -> MaskOp | None:
        """Fill the closed outline ``l0_points`` (the fill tool's lasso) with ``type_`` (None erases)."""
        return self._paint(self.project.polygon_op(self.image_id, [l0_points], type_ or None, frame))

    def fill(self, l0_points, type_, frame: int = 0) -> MaskOp | None:
        """Fill the superpixels under the points (a click or a drag) with ``type_`` (None erases)."""
        if self.current is None:
            raise InvalidValueError("no superpixels yet: compute them for the view first (viewer.superpixels())")
        pts = np.asarray(l0_points, dtype=np.float64).reshape(-1, 2)
        ids = {self.current.label_at(p) for p in pts} - {0}
        op = self.current.fill_op(self.image_id, frame, ids, self.project.mask_class(type_ or None))
        return self._paint(op)

    def _paint(self, op: MaskOp | None) -> MaskOp | None:
        if op is None:
            return None
        x0, y0, x1, y1 = op_box(op)
        before = self.project.mask(self.image_id, region=(x0, y0, x1, y1), frame=op.frame)
        self._done.append((op, MaskOp(op.image_id, op.frame, op.l0_xy, before, op.where)))
        self._undone.clear()
        self.project.queue_mask(op)
        return op

    def undo(self) -> bool:
        if not self._done:
            return False
        op, before = self._done.pop()
        self._undone.append((op, before))
        self.project.queue_mask(before)
        return True

    def redo(self) -> bool:
        if not self._undone:
            return False
        op, before = self._undone.pop()
        self._done.append((op, before))
        self.project.queue_mask(op)
        return True

    def clear(self, frame: int = 0) -> int:
        n = self.project.clear_mask(self.image_id, frame)
        with self._lock:
            self._announced[int(frame)] = None
        self._done.clear()
        self._undone.clear()
        image = self.project.images(ids=[self.image_id]).iloc[0]
        self._send(message("mask_changed", frame=int(frame), bbox=(0.0, 0.0, float(image["width"]),
                                                                   float(image["height"])), reason="clear"))
        return n

    # -- display --------------------------------------------------------------------------------------
    def tile(self, level: int, col: int, row: int, frame: int = 0) -> np.ndarray:
        """The label tile (``col``, ``row``) at ``level`` as the browser draws it: up to 512 x 512
        class indices, cut at the image's edge. Read through ``proj.mask``, which commits queued
        strokes first, so a tile asked for after a stroke carries it."""
        image = self.project.images(ids=[self.image_id]).iloc[0]
        width, height = int(image["width"]), int(image["height"])
        span = TILE << int(level)
        x0, y0 = int(col) * span, int(row) * span
        if col < 0 or row < 0 or x0 >= width or y0 >= height:
            raise InvalidValueError(f"mask tile {col},{row} at level {level} is outside the {width}x{height} image {self.image_id}")
        region = (x0, y0, min(width, x0 + span), min(height, y0 + span))
        return self.project.mask(self.image_id, region=region, level=int(level), frame=int(frame))

    # -- superpixels ------------------------------------------------------------------------------
    def superpixels(self, view: dict, method: str = "slic", frame: int = 0, **params) -> Superpixels:
        """Superpixels of ``view`` (the viewer's ``view`` trait: bounds, width, height)."""
        bounds = view.get("bounds") if view else None
        if not bounds or not view.get("width"):
            raise InvalidValueError("the viewer has not been shown yet: no view to compute superpixels for")
        slide = open_slide(self.project.images(ids=[self.image_id]).iloc[0]["path"])
        sp = Superpixels.of_view(slide, bounds, (view["width"], view["height"]), method, frame, **params)
        self.current = sp
        h, w = sp.labels.shape
        edges = np.ascontiguousarray(sp.boundaries(), dtype=np.uint8)
        self._send(message("superpixels", bbox=tuple(float(v) for v in sp.l0_box), width=int(w), height=int(h),
                           count=sp.count, method=method), [edges.tobytes()])
        return sp

    # -- save and next ----------------------------------------------------------------------------
    def finish_image(self, frame: int = 0) -> int | None:
        """Mark the image done for this user; the next undone image of its set (None: all done)."""
        self.project.mark_done(self.image_id, frame)
        return self.project.next_undone(self.image_id)

    def _committed(self, touched: dict) -> None:
        for (image_id, frame), keys in touched.items():
            if image_id == self.image_id and keys:
                with self._lock:
                    seen = self._announced.setdefault(int(frame), set())
                    if seen is not None:
                        seen.update(keys)
                self._tiles_changed(frame, keys, "stroke")

    def _remote(self, by_frame: dict) -> None:
        for frame, keys in by_frame.items():
            with self._lock:
                seen = self._announced.pop(int(frame), set())
            rest = [] if seen is None else [k for k in keys if k not in seen]
            if rest:
                self._tiles_changed(frame, rest, "remote")

    def _tiles_changed(self, frame: int, keys, reason: str) -> None:
        xs = [k[0] for k in keys]
        ys = [k[1] for k in keys]
        bbox = (float(min(xs) * TILE), float(min(ys) * TILE), float((max(xs) + 1) * TILE), float((max(ys) + 1) * TILE))
        self._send(message("mask_changed", frame=int(frame), bbox=bbox, reason=reason))
