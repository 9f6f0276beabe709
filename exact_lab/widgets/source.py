"""What the browser needs to know about a slide: size, Deep Zoom layout, resolution, and how
to name it in the server extension's routes (a root-relative path, or an alias token for
pseudonymised images, whose path must never reach the browser)."""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path


def describe(path, *, name: str | None = None, pseudonymized: bool = False, comm: bool = True) -> dict:
    """The ``_source`` trait of a viewer (plain JSON), or ``{"error": ...}`` if the slide cannot open."""
    from ..slides import open_slide

    path = Path(path)
    try:
        slide = open_slide(path)
        info = slide.info(public=pseudonymized)
    except Exception as exc:  # shown in the widget instead of raising in a cell
        return {"error": f"Cannot open the slide: {exc}", "name": name or path.name, "width": 1, "height": 1,
                "max_level": 0, "tile_size": 254, "overlap": 1, "format": "jpeg", "mpp": None,
                "objective_power": None, "frames": 1, "hash": None, "path": None, "abs_path": None,
                "token": None, "comm": False}
    width, height = info["width"], info["height"]
    token = alias_for(path) if pseudonymized else None
    return {
        "name": name or path.name,
        "width": width,
        "height": height,
        "max_level": int(info.get("dz_levels") or (math.ceil(math.log2(max(width, height, 1))) + 1)) - 1,
        "tile_size": int(info.get("tile_size") or 254),
        "overlap": int(info.get("overlap") if info.get("overlap") is not None else 1),
        "format": "jpeg",
        "mpp": None if info.get("mpp_suspicious") else info.get("mpp"),
        "objective_power": info.get("objective_power"),
        "frames": int(info.get("frames") or 1),
        "hash": info.get("content_hash"),
        "path": None if pseudonymized else root_relative(path),
        "abs_path": None if pseudonymized else os.path.abspath(path),
        "token": token,
        "comm": comm,
        "error": None,
    }


def alias_for(path) -> str | None:
    """Opaque token under which the server extension serves a pseudonymised image."""
    try:
        from ..slides import aliases
    except ImportError:
        return None
    try:
        return aliases.register(str(path))
    except Exception:
        return None


def root_relative(path) -> str | None:
    """The slide's path relative to the root directory of the Jupyter server this kernel belongs
    to, when that can be worked out here (the browser also tries with the root it knows)."""
    path = Path(path).absolute()
    notebook = os.environ.get("JPY_SESSION_NAME")
    for root in _server_roots():
        try:
            rel = path.relative_to(root)
        except ValueError:
            continue
        if notebook and not Path(notebook).absolute().is_relative_to(root):
            continue
        return rel.as_posix()
    return None


@lru_cache(maxsize=1)
def _server_roots() -> tuple[Path, ...]:
    try:
        from jupyter_server.serverapp import list_running_servers

        roots = [Path(s["root_dir"]).expanduser().absolute() for s in list_running_servers() if s.get("root_dir")]
    except Exception:
        roots = []
    # the deepest root first: it is the most specific match
    return tuple(sorted(set(roots), key=lambda p: -len(p.parts)))
