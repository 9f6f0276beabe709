"""Paint operations queued in the kernel and committed in the edit session's batches (about once
a second), each batch one DuckLake snapshot together with the annotation edits queued with it."""

from __future__ import annotations

import threading

from .tiles import MaskOp
from .tilestore import apply_ops


class MaskQueue:
    """A participant of ``proj.session`` (see ``store.session.Participant``)."""

    def __init__(self, session, user: str):
        self._session = session
        self._user = user
        self._lock = threading.Lock()
        self._ops: list[MaskOp] = []
        self._sizes: dict[int, tuple[int, int]] = {}
        self._listeners: list = []
        session.add_participant(self)

    def put(self, op: MaskOp, size: tuple[int, int]) -> None:
        with self._lock:
            self._ops.append(op)
            self._sizes[op.image_id] = size
        self._session.request_commit()

    def on_commit(self, callback) -> None:
        """``callback({(image_id, frame): level-0 tile keys})`` after each committed batch."""
        self._listeners.append(callback)

    def off_commit(self, callback) -> None:
        if callback in self._listeners:
            self._listeners.remove(callback)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._ops)

    # -- the participant protocol ----------------------------------------------------------------
    def take(self):
        with self._lock:
            ops, self._ops = self._ops, []
            return (ops, dict(self._sizes), {}) if ops else None

    def write(self, con, batch) -> int:
        ops, sizes, touched = batch
        touched.clear()
        touched.update(apply_ops(con, ops, sizes, self._user))
        return len(ops)

    def put_back(self, batch) -> None:
        with self._lock:
            self._ops = batch[0] + self._ops

    def committed(self, batch) -> None:
        for callback in list(self._listeners):
            callback(batch[2])
