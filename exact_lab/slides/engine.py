"""The tile engine shared by the server extension and the widget comm.

``TileEngine.get_tile(path, level, col, row, frame=0, fmt="jpeg")`` returns encoded tile bytes:
from an in-memory LRU cache bounded in bytes, or decoded in a thread pool (OpenSlide and pyvips
release the GIL, so threads decode in parallel). Concurrent requests for the same missing tile
decode it once. ``tile_async`` is the asyncio form (the server); ``request`` / ``cancel`` give the
comm fallback request ids, cancellation and a timeout:

    engine = default_engine()
    engine.request(req_id, path, level, col, row, frame, "jpeg", callback, timeout=30)
    engine.cancel(req_id)          # the tile left the view: skip it if not started
    # callback(req_id, data_or_None, error_or_None) runs on a worker thread
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from .base import Slide
from .deadlines import Deadlines
from .reader import open_slide

DEFAULT_CACHE_BYTES = int(os.environ.get("EXACT_LAB_TILE_CACHE_MB", "256")) * 1024 * 1024


def default_workers() -> int:
    """Decoding threads (``EXACT_LAB_TILE_WORKERS`` to change): two per core, at least four.
    Decoding releases the GIL; extra threads hide storage latency and keep tiles their share of the
    CPU when a busy kernel competes for it. (On the shared 2-core test machine, 2, 4 and 8 threads
    measured within the noise of each other.)"""
    return int(os.environ.get("EXACT_LAB_TILE_WORKERS") or max(4, 2 * (os.cpu_count() or 2)))


@dataclass(frozen=True)
class TileKey:
    content: str
    level: int
    col: int
    row: int
    frame: int
    fmt: str
    tile_size: int | None
    overlap: int | None


class TileCache:
    """Thread-safe LRU of encoded tiles, bounded by total bytes."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = max_bytes
        self._items: OrderedDict[TileKey, bytes] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: TileKey) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return data

    def put(self, key: TileKey, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._items[key] = data
            self._bytes += len(data)
            while self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= len(dropped)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


class TileEngine:
    def __init__(self, cache_bytes: int = DEFAULT_CACHE_BYTES, workers: int | None = None):
        self.cache = TileCache(cache_bytes)
        self.workers = workers or default_workers()
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="exact-lab-tiles")
        self._inflight: dict[TileKey, Future] = {}
        self._inflight_lock = threading.Lock()
        self._requests: dict = {}
        self._requests_lock = threading.Lock()
        self._deadlines = Deadlines()

    # -- synchronous core ------------------------------------------------------------------
    def key(self, slide, level, col, row, frame, fmt, tile_size, overlap) -> TileKey:
        return TileKey(slide.content_hash, int(level), int(col), int(row), int(frame), fmt, tile_size, overlap)

    def get_tile(self, path, level: int, col: int, row: int, frame: int = 0, fmt: str = "jpeg", *,
                 tile_size: int | None = None, overlap: int | None = None) -> bytes:
        """Encoded tile bytes of the slide at ``path`` (or an opened ``Slide``). Raises the slide's
        errors: UnsupportedSlideError, IndexError for a tile or frame outside the pyramid,
        ValueError for an unknown format, SlideReadError for a damaged file."""
        slide = path if isinstance(path, Slide) else open_slide(path)
        key = self.key(slide, level, col, row, frame, fmt, tile_size, overlap)
        data = self.cache.get(key)
        if data is not None:
            return data
        with self._inflight_lock:  # someone already decoding it? wait for theirs
            # Look again: a decode may have finished (and left in-flight) since the miss above.
            data = self.cache.get(key)
            if data is not None:
                return data
            future = self._inflight.get(key)
            owner = future is None
            if owner:
                future = Future()
                self._inflight[key] = future
        if not owner:
            return future.result()
        try:
            data = slide.tile(level, col, row, frame=frame, format=fmt, tile_size=tile_size, overlap=overlap)
            self.cache.put(key, data)
            future.set_result(data)
            return data
        except BaseException as exc:
            future.set_exception(exc)
            raise
        finally:
            with self._inflight_lock:
                self._inflight.pop(key, None)

    def cached_tile(self, path, level, col, row, frame=0, fmt="jpeg", *, tile_size=None, overlap=None) -> bytes | None:
        """The tile if it is in memory already (lets a server answer without a thread hop)."""
        slide = path if isinstance(path, Slide) else open_slide(path)
        return self.cache.get(self.key(slide, level, col, row, frame, fmt, tile_size, overlap))

    # -- asyncio (server) ---------------------------------------------------------------------
    async def tile_async(self, path, level, col, row, frame=0, fmt="jpeg", **kw) -> bytes:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: self.get_tile(path, level, col, row, frame, fmt, **kw))

    async def call(self, fn, *args):
        """Run any blocking slide call (open, descriptor, thumbnail) on the pool."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.pool, lambda: fn(*args))

    # -- request ids (widget comm) --------------------------------------------------------------
    def request(self, request_id, path, level, col, row, frame, fmt, callback, *, timeout: float = 30.0, **kw) -> None:
        """Decode on the pool and call ``callback(request_id, data, error)`` exactly once, unless
        cancelled first; after ``timeout`` seconds the callback gets a timeout error instead."""
        state = {"cancelled": False, "done": False, "deadline": None}
        lock = threading.Lock()

        def finish(data, error):
            with lock:
                if state["done"] or state["cancelled"]:
                    return
                state["done"] = True
            if state["deadline"] is not None:
                self._deadlines.cancel(state["deadline"])
            with self._requests_lock:
                self._requests.pop(request_id, None)
            callback(request_id, data, error)

        def work():
            if state["cancelled"] or state["done"]:  # cancelled or timed out while queued
                return
            try:
                finish(self.get_tile(path, level, col, row, frame, fmt, **kw), None)
            except Exception as exc:
                finish(None, f"{type(exc).__name__}: {exc}")

        with self._requests_lock:
            self._requests[request_id] = state
        state["deadline"] = self._deadlines.schedule(timeout, lambda: finish(None, f"timed out after {timeout:g} s"))
        self.pool.submit(work)

    def cancel(self, request_id) -> bool:
        """Drop a pending request: its callback will not run. False if it already finished."""
        with self._requests_lock:
            state = self._requests.pop(request_id, None)
        if state is None:
            return False
        state["cancelled"] = True
        if state["deadline"] is not None:
            self._deadlines.cancel(state["deadline"])
        return True

    def pending(self) -> int:
        with self._requests_lock:
            return len(self._requests)


_default: TileEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> TileEngine:
    """One engine per process (the server's, or the kernel's for the comm fallback)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = TileEngine()
        return _default
