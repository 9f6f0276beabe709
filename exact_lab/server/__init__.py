"""The Jupyter server extension: slide metadata and Deep Zoom tiles under ``{base_url}exact-lab/``.

Tiles never pass through a kernel: a notebook busy running a model must not freeze panning.
"""

from __future__ import annotations

from .handlers import route_table


def _load_jupyter_server_extension(serverapp) -> None:
    from ..slides.engine import default_engine

    web_app = serverapp.web_app
    base_url = web_app.settings.get("base_url", "/")
    web_app.settings["exact_lab_engine"] = default_engine()
    web_app.add_handlers(".*$", route_table(base_url))
    serverapp.log.info("exact-lab: serving slides under %sexact-lab/", base_url)


# the name older notebook servers look for
load_jupyter_server_extension = _load_jupyter_server_extension
