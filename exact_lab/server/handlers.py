"""Tornado handlers for slide metadata, Deep Zoom descriptors and tiles, thumbnails and
associated images.

Every route needs Jupyter's authentication (anonymous: 403) and read access to contents. Blocking
slide work (path checks, opening, decoding) runs on the tile engine's thread pool, never on the
server's event loop. Failures answer JSON ``{"status", "message"}``; messages name the route, never
the server's own paths (a pseudonymised slide's path must not reach the browser).
"""

from __future__ import annotations

import json

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import UnsupportedSlideError
from ..slides.base import PRIVATE_ASSOCIATED
from ..slides.encode import MEDIA_TYPES, encode, normalize_format
from ..slides.reader import open_slide
from .caching import REVALIDATE, cache_control, etag
from .logs import log_exception, request_summary
from .opened import OpenedRoute
from .paths import resolve_route_path
from .replies import fail, hide_paths, one_line, tile_failure

# Response headers that belong to one response; the rest (security policy, CORS) are replayed by
# the warm-tile fast path for the same credentials.
_PER_RESPONSE = frozenset({"content-type", "content-length", "etag", "cache-control", "set-cookie",
                           "date", "server", "last-modified", "expires"})


def root_dir_of(settings) -> str:
    manager = settings.get("contents_manager")
    return getattr(manager, "root_dir", None) or settings.get("server_root_dir") or "."


def open_route(route: str, root: str) -> OpenedRoute:
    """Check ``route`` and open its slide (blocking: run it on the pool)."""
    path = resolve_route_path(route, root)
    try:
        slide = open_slide(path)
        slide.content_hash  # noqa: B018 -- hashing reads the file: do it here, off the event loop
    except UnsupportedSlideError as exc:
        raise fail(415, hide_paths(str(exc), path, route, root)) from exc
    except Exception as exc:  # damaged beyond what the readers expect
        raise fail(500, f"{route}: cannot open it ({hide_paths(one_line(exc), path, route, root)})") from exc
    return OpenedRoute(slide, public=route.startswith("@"))


class SlideHandler(APIHandler):
    """Shared plumbing: auth, path checks, slide opening, caching headers and error mapping."""

    auth_resource = "contents"  # reading slides is reading files

    @property
    def engine(self):
        return self.settings["exact_lab_engine"]

    @property
    def root(self) -> str:
        return root_dir_of(self.settings)

    def check_xsrf_cookie(self):  # GET-only routes; tile URLs are fetched by <img> and fetch()
        return None

    async def prepare(self):
        # Credentials accepted a moment ago skip the identity provider (see credentials.py).
        known = self.settings["exact_lab_credentials"].lookup(self.request) if self.request.method == "GET" else None
        if known is None:
            return await super().prepare()
        self.current_user = self._jupyter_current_user = known[0]
        for name, value in known[1]:
            self.set_header(name, value)
        return None

    def remember_credentials(self) -> None:
        """These credentials just passed auth and authorization for reading slides."""
        replay = tuple((k, v) for k, v in self._headers.get_all() if k.lower() not in _PER_RESPONSE)
        self.settings["exact_lab_credentials"].remember(self.request, self.current_user, replay)

    async def open_route(self, route: str) -> OpenedRoute:
        routes, root = self.settings["exact_lab_routes"], self.root
        opened = routes.get(root, route)
        if opened is None:
            opened = await self.engine.call(open_route, route, root)
            routes.put(root, route, opened)
        return opened

    def int_argument(self, name: str, default: int) -> int:
        text = self.get_argument(name, str(default))
        if not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
            raise fail(400, f"{name} must be a whole number of at most {MAX_DIGITS} digits")
        return int(text)

    def format_argument(self, text: str) -> str:
        try:
            return normalize_format(text)
        except ValueError as exc:
            raise fail(400, str(exc)) from None

    def not_modified(self, slide, *parts) -> bool:
        """Set ETag and Cache-Control; answer 304 and return True if the browser has it already."""
        self.set_header("ETag", etag(slide.content_hash, *parts))
        self.set_header("Cache-Control", cache_control(self.get_argument("v", None), slide.content_hash))
        if self.check_etag_header():
            self.set_status(304)
            self.finish()
            return True
        return False

    def send_image(self, data: bytes, fmt: str) -> None:
        self.finish(data, set_content_type=MEDIA_TYPES[fmt])  # APIHandler would say JSON

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        # Tornado answers 400 to bytes that are not UTF-8 before authentication runs; decoded
        # with replacement characters they name no file (404), after it like any other route.
        return value.decode("utf-8", errors="replace")

    def log_exception(self, typ, value, tb):
        log_exception(self, typ, value, tb)  # tornado's, without the token in the URI

    def _request_summary(self) -> str:
        return request_summary(self)

    def write_error(self, status_code, **kwargs):
        # A short JSON reason for every failure; never a stack trace to the browser.
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        else:
            message = self._reason
        for name in ("ETag", "Cache-Control", "Content-Type"):
            self.clear_header(name)
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"status": status_code, "message": message}))


class InfoHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, route):
        opened = await self.open_route(route)
        info = await self.engine.call(lambda: opened.slide.info(public=opened.public))
        if not opened.public:  # the browser knows the slide by its route, not the server's disk
            info["path"] = route
        self.set_header("Cache-Control", REVALIDATE)
        self.finish(json.dumps(info))


class DziHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, route):
        opened = await self.open_route(route)
        fmt = self.format_argument(self.get_argument("format", "jpeg"))
        if self.not_modified(opened.slide, "dzi", fmt):
            return
        self.finish(opened.slide.dzi(format=fmt), set_content_type="application/xml")


class TileHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, route, level, col, row, fmt):
        opened = await self.open_route(route)
        slide = opened.slide
        fmt = self.format_argument(fmt)
        frame = self.int_argument("frame", 0)
        level, col, row = tile_numbers(level, col, row)
        if self.not_modified(slide, level, col, row, frame, fmt):
            self.remember_credentials()
            return
        engine = self.engine
        data = engine.cached_tile(slide, level, col, row, frame, fmt)
        if data is None:
            try:
                data = await engine.tile_async(slide, level, col, row, frame, fmt)
            except Exception as exc:
                raise fail(*tile_failure(exc, route, slide.path, self.root)) from exc
        self.remember_credentials()
        self.send_image(data, fmt)


class ThumbnailHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, route):
        opened = await self.open_route(route)
        size = max(8, min(4096, self.int_argument("size", 512)))
        frame = self.int_argument("frame", 0)
        fmt = self.format_argument(self.get_argument("format", "jpeg"))
        if self.not_modified(opened.slide, "thumbnail", size, frame, fmt):
            return
        try:
            data = await self.engine.call(lambda: encode(opened.slide.thumbnail(size, frame=frame), fmt))
        except IndexError as exc:
            raise fail(404, one_line(exc)) from exc
        except Exception as exc:
            raise fail(500, f"{route}: cannot make a thumbnail ({hide_paths(one_line(exc), opened.slide.path, route, self.root)})") from exc
        self.send_image(data, fmt)


class AssociatedHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, name, route):
        opened = await self.open_route(route)
        slide = opened.slide
        if name not in slide.associated_images or (opened.public and name in PRIVATE_ASSOCIATED):
            raise fail(404, f"no associated image {name!r}")
        fmt = self.format_argument(self.get_argument("format", "jpeg"))
        if self.not_modified(slide, "associated", name, fmt):
            return
        try:
            data = await self.engine.call(lambda: encode(slide.associated_images[name], fmt))
        except Exception as exc:
            raise fail(500, f"{route}: cannot read {name!r} ({hide_paths(one_line(exc), slide.path, route, self.root)})") from exc
        self.send_image(data, fmt)


class NoRouteHandler(SlideHandler):
    """Every other URL under ``exact-lab/``: a JSON 404 that lists the routes (after the same
    authentication as the rest; Jupyter's own 404 page is HTML)."""

    @web.authenticated
    @authorized
    async def get(self, _rest):
        raise fail(404, f"no such exact-lab route; the routes are {ROUTES_HELP}")


TILE_PATTERN = r"dz/(.+)_files/(\d+)/(\d+)_(\d+)\.(jpeg|jpg|png|webp)"
ROUTES_HELP = ("info/{path}, dz/{path}.dzi, dz/{path}_files/{level}/{col}_{row}.{jpeg|png|webp}, "
               "thumbnail/{path}, associated/{name}/{path}")
# Longer numbers are no tile, frame or size of any slide (and int() refuses past 4,300 digits).
MAX_DIGITS = 9


def tile_numbers(*texts: str) -> tuple[int, ...]:
    """Level, column and row of a tile URL (digits by the route pattern), or a 404."""
    if any(len(t) > MAX_DIGITS for t in texts):
        raise fail(404, f"no such tile: level, column and row have at most {MAX_DIGITS} digits")
    return tuple(int(t) for t in texts)


def route_table(base_url: str):
    prefix = url_path_join(base_url, "exact-lab")
    return [
        (url_path_join(prefix, TILE_PATTERN), TileHandler),
        (url_path_join(prefix, r"dz/(.+)\.dzi"), DziHandler),
        (url_path_join(prefix, r"info/(.+)"), InfoHandler),
        (url_path_join(prefix, r"thumbnail/(.+)"), ThumbnailHandler),
        (url_path_join(prefix, r"associated/([^/]+)/(.+)"), AssociatedHandler),
        (prefix + r"(/.*)?", NoRouteHandler),  # last: what no route above matched
    ]
