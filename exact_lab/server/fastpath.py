"""Tile requests answered straight from the HTTP connection.

Sending a cached tile costs microseconds, but a full Jupyter request handler (identity provider,
cookies, policy headers, logging, a thread hop to check the file) costs about a millisecond of the
event loop's time, which also competes with the decoding threads for the GIL. This router sits in
front of ``TileHandler`` and answers a tile request itself when nothing needs checking again:

- the same credentials passed Jupyter's authentication and authorization for a tile a moment ago
  (``credentials.py``),
- the route passed the path checks and its slide was opened a moment ago (``opened.py``),
- the tile, level and frame exist.

Then the tile comes from the engine's memory cache, or is decoded on the engine's pool and written
when ready. Anything else (first request, expired entries, HEAD, bad arguments) returns ``None``
and tornado goes on to ``TileHandler``, which does the full work and refreshes those entries.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone

from tornado import httputil
from tornado.routing import Router

from ..slides.encode import MEDIA_TYPES, normalize_format
from .caching import cache_control, etag, etag_matches
from .handlers import root_dir_of
from .replies import tile_failure


class TileFastPath(Router):
    def __init__(self, settings: dict):
        self.settings = settings  # the web application's settings: engine, caches, root

    def find_handler(self, request, path_args=(), **_):
        if request.method != "GET":
            return None
        settings = self.settings
        known = settings["exact_lab_credentials"].lookup(request)
        if known is None:
            return None
        root = root_dir_of(settings)
        try:
            route, level, col, row, fmt = (a.decode("utf-8") if isinstance(a, bytes) else a for a in path_args)
            opened = settings["exact_lab_routes"].get(root, route)
            if opened is None:
                return None
            slide = opened.slide
            level, col, row, fmt = int(level), int(col), int(row), normalize_format(fmt)
            query = request.query_arguments
            frame = int(query["frame"][-1]) if "frame" in query else 0
            version = query["v"][-1].decode("ascii") if "v" in query else None
            slide.deepzoom().tile_rect(level, col, row)  # IndexError: the handler says which
            if not 0 <= frame < slide.frames:
                return None
        except (ValueError, IndexError, UnicodeDecodeError):
            return None
        headers = httputil.HTTPHeaders()
        for name, value in known[1]:  # policy and CORS headers Jupyter set for these credentials
            headers.add(name, value)
        tag = etag(slide.content_hash, level, col, row, frame, fmt)
        headers["ETag"] = tag
        headers["Cache-Control"] = cache_control(version, slide.content_hash)
        settings["api_last_activity"] = datetime.now(timezone.utc)  # what APIHandler records
        if etag_matches(request.headers.get("If-None-Match"), tag):
            return _Reply(request.connection, 304, headers)
        engine = settings["exact_lab_engine"]
        data = engine.cached_tile(slide, level, col, row, frame, fmt)
        reply = _Reply(request.connection, 200, headers)
        if data is not None:
            reply.image(data, fmt)
            return reply
        return _Decode(reply, engine, slide, (level, col, row, frame, fmt), route, root)


class _Reply(httputil.HTTPMessageDelegate):
    """Writes a response once the request has been read and the body is known."""

    def __init__(self, connection, code: int, headers):
        self.connection = connection
        self.code = code
        self.headers = headers
        self.body = b""
        self.request_read = False
        self.ready = code == 304
        self.closed = False

    def image(self, data: bytes, fmt: str) -> None:
        self.body = data
        self.headers["Content-Type"] = MEDIA_TYPES[fmt]
        self._ready()

    def error(self, code: int, message: str) -> None:
        self.code = code
        for name in ("ETag", "Cache-Control"):
            self.headers.pop(name, None)
        self.headers["Cache-Control"] = "no-store"
        self.headers["Content-Type"] = "application/json"
        self.body = json.dumps({"status": code, "message": message}).encode()
        self._ready()

    def _ready(self) -> None:
        self.ready = True
        self._send()

    def finish(self) -> None:
        self.request_read = True
        self._send()

    def on_connection_close(self) -> None:
        self.closed = True

    def _send(self) -> None:
        if not (self.ready and self.request_read) or self.closed:
            return
        self.closed = True  # sent once
        if self.code != 304:
            self.headers["Content-Length"] = str(len(self.body))
        start = httputil.ResponseStartLine("HTTP/1.1", self.code, httputil.responses.get(self.code, "Unknown"))
        self.connection.write_headers(start, self.headers, self.body or None)
        self.connection.finish()


class _Decode(httputil.HTTPMessageDelegate):
    """A tile not in memory: decoded on the engine's pool, then written by the event loop."""

    def __init__(self, reply: _Reply, engine, slide, coords: tuple, route: str, root: str):
        self.reply, self.engine, self.slide, self.coords = reply, engine, slide, coords
        self.route, self.root = route, root
        self.loop = asyncio.get_running_loop()
        future = engine.pool.submit(engine.get_tile, slide, *coords)
        future.add_done_callback(lambda f: self.loop.call_soon_threadsafe(self._decoded, f))

    def _decoded(self, future) -> None:
        try:
            data = future.result()
        except Exception as exc:  # same answer as TileHandler's
            self.reply.error(*tile_failure(exc, self.route, self.slide.path, self.root))
        else:
            self.reply.image(data, self.coords[-1])

    def finish(self) -> None:
        self.reply.finish()

    def on_connection_close(self) -> None:
        self.reply.on_connection_close()
