"""The Jupyter server extension: slide metadata and Deep Zoom tiles under ``{base_url}exact-lab/``.

Tiles never pass through a kernel: a notebook busy running a model must not freeze panning.
"""

from __future__ import annotations

from .handlers import TILE_PATTERN, route_table


def _load_jupyter_server_extension(serverapp) -> None:
    from jupyter_server.utils import url_path_join
    from tornado import web

    from ..slides.engine import default_engine
    from .credentials import CredentialCache
    from .fastpath import TileFastPath
    from .opened import OpenedRoutes

    web_app = serverapp.web_app
    settings = web_app.settings
    base_url = settings.get("base_url", "/")
    settings["exact_lab_engine"] = default_engine()
    settings["exact_lab_credentials"] = CredentialCache()
    settings["exact_lab_routes"] = OpenedRoutes()
    # The warm-tile router must come before TileHandler (later rules are tried later). It is not a
    # request handler, so it is added through tornado directly: Jupyter's add_handlers inspects
    # handler classes for auth decorators; the router serves only credentials that passed them.
    fast = (url_path_join(base_url, "exact-lab", TILE_PATTERN), TileFastPath(settings))
    web.Application.add_handlers(web_app, ".*$", [fast])
    web_app.add_handlers(".*$", route_table(base_url))
    serverapp.log.info("exact-lab: serving slides under %sexact-lab/", base_url)


# the name older notebook servers look for
load_jupyter_server_extension = _load_jupyter_server_extension
