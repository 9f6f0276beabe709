"""Turn a route's path into a file the server may read, or refuse it.

Only files under the server's root directory are served: no absolute paths, no ``..``, no hidden
files or folders, no symlinks that lead out of the root. ``@token`` names a pseudonymised slide
registered by a kernel of the same user (see ``exact_lab.slides.aliases``). Whatever the file
system says about a path (a loop of symbolic links, a name too long, no permission) is a 4xx
that names the route, never a 500 that names the server's disk.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from .replies import fail

# Linux's limits (NAME_MAX, PATH_MAX); checked before the path reaches the file system.
MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096


def resolve_route_path(route: str, root_dir: str) -> Path:
    if route.startswith("@"):
        return _alias(route)
    if "\0" in route:
        raise fail(400, "a path may not hold a NUL character")
    if not route or route.startswith(("/", "\\")) or (len(route) > 1 and route[1] == ":"):
        raise fail(403, "absolute paths are not served")
    parts = route.replace("\\", "/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise fail(403, "path escapes the server root")
    if any(part.startswith(".") for part in parts):
        raise fail(403, "hidden files are not served")
    root = Path(root_dir).expanduser().resolve()
    _check_lengths(route, parts, root)
    try:
        resolved = root.joinpath(*parts).resolve()
        inside = resolved == root or root in resolved.parents
        exists = inside and resolved.exists()
    except (OSError, RuntimeError) as exc:  # RuntimeError: Python 3.11's word for a symlink loop
        raise _file_system_refusal(route, exc) from None
    if not inside:
        raise fail(403, "path leads outside the server root")
    if any(part.startswith(".") for part in resolved.relative_to(root).parts):  # a symlink to a hidden file
        raise fail(403, "hidden files are not served")
    if not exists:
        raise fail(404, f"no such file: {route}")
    return resolved


def _alias(route: str) -> Path:
    from ..slides.aliases import resolve

    try:
        target = resolve(route[1:])
        found = target is not None and target.exists()
    except (OSError, RuntimeError) as exc:
        raise _file_system_refusal(route, exc) from None
    if not found:
        raise fail(404, "unknown slide token")
    return target


def _check_lengths(route: str, parts: list[str], root: Path) -> None:
    for part in parts:
        if len(os.fsencode(part)) > MAX_NAME_BYTES:
            raise fail(400, f"a file or folder name may not be longer than {MAX_NAME_BYTES} bytes "
                            f"({len(os.fsencode(part))} in {part[:40]}...)")
    if len(os.fsencode(str(root))) + 1 + len(os.fsencode(route)) > MAX_PATH_BYTES:
        raise fail(400, f"a path may not be longer than {MAX_PATH_BYTES} bytes")


def _file_system_refusal(route: str, exc: BaseException):
    """The 4xx for what the file system said about ``route`` (never its disk path)."""
    code = getattr(exc, "errno", None)
    if isinstance(exc, RuntimeError) or code == errno.ELOOP:
        return fail(404, f"{route[:200]}: a loop of symbolic links, not a file")
    if code == errno.ENAMETOOLONG:
        return fail(400, f"{route[:200]}: the path is longer than the file system takes")
    if code in (errno.EACCES, errno.EPERM):
        return fail(403, f"{route[:200]}: the server may not read it")
    if code in (errno.ENOENT, errno.ENOTDIR):
        return fail(404, f"no such file: {route[:200]}")
    return fail(400, f"{route[:200]}: cannot be opened ({os.strerror(code) if code else type(exc).__name__})")
