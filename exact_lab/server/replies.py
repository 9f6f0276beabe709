"""What a failure tells the browser: a status and a one-line message that names the route, never
the server's own paths (a pseudonymised slide's path or file name must not reach the browser)."""

from __future__ import annotations

from pathlib import Path

from tornado import web


def fail(status: int, message: str) -> web.HTTPError:
    """An HTTPError whose message is sent as JSON (``%`` in file names is safe)."""
    return web.HTTPError(status, "%s", message)


def tile_failure(exc: BaseException, route: str, path, root: str) -> tuple[int, str]:
    """Status and message for a tile that could not be made."""
    if isinstance(exc, IndexError):
        return 404, f"no such tile: {one_line(exc)}"
    if isinstance(exc, ValueError):
        return 400, one_line(exc)
    return 500, f"{route}: cannot read the tile ({hide_paths(one_line(exc), path, route, root)})"


def hide_paths(message: str, path, route: str, root: str) -> str:
    """``message`` with the slide's path shown as its route and the server root removed."""
    message = message.replace(str(path), route)
    if route.startswith("@"):  # a pseudonymised slide: not even its file name
        message = message.replace(Path(path).name, route)
    resolved_root = str(Path(root).expanduser().resolve())
    return message.replace(resolved_root + "/", "").replace(resolved_root, "")


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
