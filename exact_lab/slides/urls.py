"""URLs of the server extension's routes for a slide (DESIGN §6), built from the server's base
URL so they work behind JupyterHub's ``/user/<name>/`` prefix."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote


def route_name(path=None, *, root_dir=None, token: str | None = None) -> str:
    """``@token``, or the slide's path relative to the server root, URL-encoded."""
    if token:
        return "@" + quote(token, safe="")
    relative = Path(path).absolute().relative_to(Path(root_dir).absolute()) if root_dir else Path(path)
    return quote(relative.as_posix(), safe="/")


def slide_urls(path=None, *, base_url: str = "/", root_dir=None, token: str | None = None,
               content_hash: str | None = None, fmt: str = "jpeg") -> dict:
    base = (base_url if base_url.endswith("/") else base_url + "/") + "exact-lab/"
    name = route_name(path, root_dir=root_dir, token=token)
    version = f"?v={quote(content_hash)}" if content_hash else ""
    return {
        "dzi": f"{base}dz/{name}.dzi{version}",
        "tiles": f"{base}dz/{name}_files/{{level}}/{{col}}_{{row}}.{fmt}{version}",
        "info": f"{base}info/{name}",
        "thumbnail": f"{base}thumbnail/{name}",
        "associated": f"{base}associated/{{name}}/{name}",
    }
