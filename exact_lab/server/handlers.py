"""Tornado handlers for slide metadata, Deep Zoom descriptors and tiles, thumbnails and
associated images. Every route needs Jupyter's authentication (anonymous: 403); blocking slide
work runs on the tile engine's thread pool, never on the server's event loop."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import unquote

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..errors import UnsupportedSlideError
from ..slides.base import PRIVATE_ASSOCIATED
from ..slides.encode import MEDIA_TYPES, encode, normalize_format
from ..slides.reader import open_slide
from .paths import resolve_route_path

IMMUTABLE = "public, max-age=31536000, immutable"


class SlideHandler(APIHandler):
    """Shared plumbing: auth resource, path checks, slide opening and error mapping."""

    auth_resource = "contents"  # reading slides is reading files

    @property
    def engine(self):
        return self.settings["exact_lab_engine"]

    def check_xsrf_cookie(self):  # GET-only routes; tile URLs are fetched by <img> and fetch()
        return None

    async def open_route(self, route: str):
        route = unquote(route)
        path = resolve_route_path(route, self.settings.get("server_root_dir") or self.settings.get("root_dir") or ".")
        try:
            slide = await self.engine.call(open_slide, path)
        except UnsupportedSlideError as exc:
            raise web.HTTPError(415, reason=_one_line(exc)) from exc
        except Exception as exc:  # damaged beyond what the readers expect
            raise web.HTTPError(500, reason=f"cannot open {route}: {_one_line(exc)}") from exc
        return slide, route.startswith("@")

    def cache_headers(self, slide, *parts) -> bool:
        """Immutable when the URL names this content; else an ETag. True if 304 was sent."""
        etag = '"' + hashlib.sha1("|".join([slide.content_hash, *map(str, parts)]).encode()).hexdigest()[:24] + '"'
        self.set_header("ETag", etag)
        if self.get_argument("v", None) == slide.content_hash:
            self.set_header("Cache-Control", IMMUTABLE)
        else:
            self.set_header("Cache-Control", "private, no-cache")
        if self.request.headers.get("If-None-Match") == etag:
            self.set_status(304)
            self.finish()
            return True
        return False

    def send_image(self, data: bytes, fmt: str) -> None:
        self.finish(data, set_content_type=MEDIA_TYPES[fmt])  # APIHandler would say JSON

    def write_error(self, status_code, **kwargs):
        # A short JSON reason for every failure; never a stack trace to the browser.
        self.clear_header("Cache-Control")
        self.finish(json.dumps({"status": status_code, "message": self._reason}))


class InfoHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, route):
        slide, public = await self.open_route(route)
        info = await self.engine.call(lambda: slide.info(public=public))
        self.set_header("Cache-Control", "private, no-cache")
        self.finish(json.dumps(info))


class DziHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, route):
        slide, _ = await self.open_route(route)
        fmt = self.get_argument("format", "jpeg")
        if self.cache_headers(slide, "dzi", fmt):
            return
        self.finish(slide.dzi(format=normalize_format(fmt)), set_content_type="application/xml")


class TileHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, route, level, col, row, fmt):
        slide, _ = await self.open_route(route)
        fmt = normalize_format(fmt)
        try:
            frame = int(self.get_argument("frame", "0"))
        except ValueError:
            raise web.HTTPError(400, reason="frame must be an integer") from None
        level, col, row = int(level), int(col), int(row)
        if self.cache_headers(slide, level, col, row, frame, fmt):
            return
        engine = self.engine
        data = engine.cache.get(engine.key(slide, level, col, row, frame, fmt, None, None))
        if data is None:
            try:
                data = await engine.tile_async(slide.path, level, col, row, frame, fmt)
            except (IndexError, KeyError) as exc:
                raise web.HTTPError(404, reason=f"no such tile: {_one_line(exc)}") from exc
            except ValueError as exc:
                raise web.HTTPError(400, reason=_one_line(exc)) from exc
            except Exception as exc:
                raise web.HTTPError(500, reason=f"cannot read the tile: {_one_line(exc)}") from exc
        self.send_image(data, fmt)


class ThumbnailHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, route):
        slide, _ = await self.open_route(route)
        try:
            size = max(8, min(4096, int(self.get_argument("size", "512"))))
        except ValueError:
            raise web.HTTPError(400, reason="size must be an integer") from None
        fmt = normalize_format(self.get_argument("format", "jpeg"))
        if self.cache_headers(slide, "thumbnail", size, fmt):
            return
        try:
            data = await self.engine.call(lambda: encode(slide.thumbnail(size), fmt))
        except Exception as exc:
            raise web.HTTPError(500, reason=f"cannot make a thumbnail: {_one_line(exc)}") from exc
        self.send_image(data, fmt)


class AssociatedHandler(SlideHandler):
    @web.authenticated
    @authorized
    async def get(self, name, route):
        slide, public = await self.open_route(route)
        name = unquote(name)
        if name not in slide.associated_images or (public and name in PRIVATE_ASSOCIATED):
            raise web.HTTPError(404, reason=f"no associated image {name!r}")
        fmt = normalize_format(self.get_argument("format", "jpeg"))
        if self.cache_headers(slide, "associated", name, fmt):
            return
        data = await self.engine.call(lambda: encode(slide.associated_images[name], fmt))
        self.send_image(data, fmt)


def route_table(base_url: str):
    prefix = url_path_join(base_url, "exact-lab")
    fmt = r"(jpeg|jpg|png|webp)"
    return [
        (url_path_join(prefix, r"dz/(.+)_files/(\d+)/(\d+)_(\d+)\." + fmt), TileHandler),
        (url_path_join(prefix, r"dz/(.+)\.dzi"), DziHandler),
        (url_path_join(prefix, r"info/(.+)"), InfoHandler),
        (url_path_join(prefix, r"thumbnail/(.+)"), ThumbnailHandler),
        (url_path_join(prefix, r"associated/([^/]+)/(.+)"), AssociatedHandler),
    ]


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
