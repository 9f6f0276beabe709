"""Tiles over the widget comm, for front ends without the server extension (VS Code, Colab).

Requests are decoded off the kernel's main thread by the shared tile engine of
``exact_lab.slides`` (the same one the server extension uses), each with the browser's request
id; a cancel drops a request that has not started, and nothing is sent for it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

MEDIA = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class CommTileServer:
    def __init__(self, send, workers: int = 4):
        self._send = send  # send(content: dict, buffers: list)
        self._lock = threading.Lock()
        self._pending: dict[int, object] = {}
        self._engine = _engine()
        self._pool = None if self._engine is not None else ThreadPoolExecutor(workers, thread_name_prefix="exact-lab-tiles")
        self.path = None
        self.frames = 1

    def set_slide(self, path) -> None:
        self.path = str(path) if path is not None else None

    def request(self, msg: dict) -> None:
        req = int(msg["req"])
        if self.path is None:
            self._send({"type": "tile", "req": req, "ok": False, "error": "no slide"}, [])
            return
        args = (self.path, int(msg["level"]), int(msg["col"]), int(msg["row"]), int(msg.get("frame") or 0), msg.get("format") or "jpeg")
        with self._lock:
            self._pending[req] = None  # registered before it can finish
        # (callbacks may run at once, in this thread: never hold the lock around submitting)
        if self._engine is not None:
            fmt = args[5]

            def finished(request_id, data, error, fmt=fmt):
                self._done(request_id, fmt, data if error is None else RuntimeError(error))

            self._engine.request(req, *args, finished)
            handle = req
        else:
            handle = self._pool.submit(_read_tile, *args)
        with self._lock:
            if req in self._pending:
                self._pending[req] = handle
        if self._engine is None:
            handle.add_done_callback(lambda f, req=req, fmt=args[5]: self._done(req, fmt, f))

    def cancel(self, req: int) -> None:
        with self._lock:
            handle = self._pending.pop(int(req), None)
        if handle is None:
            return  # not submitted yet, or done: nothing will be sent for it
        if self._engine is not None:
            self._engine.cancel(int(req))
        else:
            handle.cancel()

    def _done(self, req: int, fmt: str, result) -> None:
        with self._lock:
            if self._pending.pop(req, None) is None:
                return  # cancelled meanwhile
        try:
            data = result.result() if hasattr(result, "result") else result
            if isinstance(data, BaseException):
                raise data
            self._send({"type": "tile", "req": req, "ok": True, "mime": MEDIA.get(fmt, "image/jpeg")}, [data])
        except Exception as exc:  # the browser shows it; the kernel keeps going
            self._send({"type": "tile", "req": req, "ok": False, "error": f"{type(exc).__name__}: {exc}"}, [])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _read_tile(path, level, col, row, frame, fmt) -> bytes:
    from ..slides import open_slide

    return open_slide(path).tile(level, col, row, frame=frame, format=fmt)


def _engine():
    """The kernel's shared tile engine (the same code and cache the server extension uses)."""
    from ..slides.engine import default_engine

    return default_engine()
