"""Turn a route's path into a file the server may read, or refuse it.

Only files under the server's root directory are served: no absolute paths, no ``..``, no hidden
files or folders, no symlinks that lead out of the root. ``@token`` names a pseudonymised slide
registered by a kernel of the same user (see ``exact_lab.slides.aliases``).
"""

from __future__ import annotations

from pathlib import Path

from tornado import web


def resolve_route_path(route: str, root_dir: str) -> Path:
    if route.startswith("@"):
        from ..slides.aliases import resolve

        target = resolve(route[1:])
        if target is None or not target.exists():
            raise web.HTTPError(404, "%s", "unknown slide token")
        return target
    if "\0" in route:
        raise web.HTTPError(400, "%s", "a path may not hold a NUL character")
    if not route or route.startswith(("/", "\\")) or (len(route) > 1 and route[1] == ":"):
        raise web.HTTPError(403, "%s", "absolute paths are not served")
    parts = route.replace("\\", "/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise web.HTTPError(403, "%s", "path escapes the server root")
    if any(part.startswith(".") for part in parts):
        raise web.HTTPError(403, "%s", "hidden files are not served")
    root = Path(root_dir).expanduser().resolve()
    candidate = root.joinpath(*parts)
    resolved = candidate.resolve()
    if resolved != root and root not in resolved.parents:
        raise web.HTTPError(403, "%s", "path leads outside the server root")
    if any(part.startswith(".") for part in resolved.relative_to(root).parts):  # a symlink to a hidden file
        raise web.HTTPError(403, "%s", "hidden files are not served")
    if not resolved.exists():
        raise web.HTTPError(404, "%s", f"no such file: {route}")
    return resolved
