"""Opaque tokens for slides whose path must never reach the browser (pseudonymised images).

A kernel registers a path and gets a random token; the mapping lives in a small JSON file in the
Jupyter runtime directory, where the server process (same user) resolves it. The browser only
ever sees ``@token``.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
from pathlib import Path

FILE_NAME = "exact-lab-aliases.json"
_lock = threading.Lock()
_cache: dict = {"mtime": None, "map": {}}


def registry_path() -> Path:
    override = os.environ.get("EXACT_LAB_ALIASES")
    if override:
        return Path(override)
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir()) / FILE_NAME


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text() or "{}")
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def register(path) -> str:
    """Token for ``path`` (the same token again for a path registered before)."""
    target = str(Path(path).expanduser().resolve())
    registry = registry_path()
    registry.parent.mkdir(parents=True, exist_ok=True)
    with _lock, open(registry.with_suffix(".lock"), "w") as lockfile:
        fcntl.flock(lockfile, fcntl.LOCK_EX)  # kernels register concurrently
        mapping = _read(registry)
        for token, known in mapping.items():
            if known == target:
                return token
        token = secrets.token_urlsafe(18)
        mapping[token] = target
        tmp = registry.with_suffix(".tmp")
        tmp.write_text(json.dumps(mapping))
        os.chmod(tmp, 0o600)  # private paths: readable by this user only
        tmp.replace(registry)
        return token


def resolve(token: str) -> Path | None:
    """The path behind a token, or None (re-reads the file only when it changed)."""
    registry = registry_path()
    try:
        mtime = registry.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    with _lock:
        if _cache["mtime"] != mtime:
            _cache["map"] = _read(registry)
            _cache["mtime"] = mtime
        target = _cache["map"].get(token)
    return Path(target) if target else None
