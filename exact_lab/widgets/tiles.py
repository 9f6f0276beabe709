"""Tiles over the widget comm, for front ends without the server extension (VS Code, Colab).

Requests are decoded off the kernel's main thread by the shared tile engine of
``exact_lab.slides`` (the same one the server extension uses), each with the browser's request
id; a cancel drops a request that has not started, and nothing is sent for it.
"""

from __future__ import annotations

import threading

from ..slides import default_engine
from . import protocol

MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class CommTileServer:
    def __init__(self, send):
        self._send = send  # send(content: dict, buffers: list)
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._engine = default_engine()
        self.path = None

    def set_slide(self, path) -> None:
        self.path = str(path) if path is not None else None

    def request(self, msg: dict) -> None:
        req = int(msg["req"])
        fmt = msg.get("format") or "jpeg"
        if self.path is None:
            self._send(protocol.message("tile", req=req, ok=False, error="no slide"), [])
            return
        with self._lock:
            self._pending.add(req)  # registered before it can finish
        # (the callback may run at once, in this thread: never hold the lock around requesting)
        self._engine.request(self._key(req), self.path, int(msg["level"]), int(msg["col"]), int(msg["row"]),
                             int(msg.get("frame") or 0), fmt,
                             lambda _key, data, error: self._done(req, fmt, data, error))

    def _key(self, req: int):
        # the engine is shared by every viewer of the kernel, and each browser view counts its
        # requests from 1: the engine's key says whose request it is
        return (id(self), req)

    def cancel(self, req: int) -> None:
        with self._lock:
            if int(req) not in self._pending:
                return  # done already: nothing will be sent for it
            self._pending.discard(int(req))
        self._engine.cancel(self._key(int(req)))

    def _done(self, req: int, fmt: str, data, error) -> None:
        with self._lock:
            if req not in self._pending:
                return  # cancelled meanwhile
            self._pending.discard(req)
        if error is None:
            self._send(protocol.message("tile", req=req, ok=True, mime=MEDIA.get(fmt, "image/jpeg")), [data])
        else:  # the browser shows it; the kernel keeps going
            self._send(protocol.message("tile", req=req, ok=False, error=str(error)), [])

    def close(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, set()
        for req in pending:
            self._engine.cancel(self._key(req))


