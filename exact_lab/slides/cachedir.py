"""Where derived files (built pyramid levels, converted TIFFs) live.

Set ``EXACT_LAB_CACHE`` to move the folder; it defaults to ``~/.cache/exact-lab``. The value is
read on every call so tests and servers can redirect it at any time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

ENV_VAR = "EXACT_LAB_CACHE"


def cache_dir(*parts: str) -> Path:
    """The cache folder (or a sub-folder of it), created if missing."""
    root = os.environ.get(ENV_VAR) or os.path.join(os.path.expanduser("~"), ".cache", "exact-lab")
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def temporary_sibling(target: Path, suffix: str = "") -> Path:
    """A fresh file name next to ``target``; written there and renamed so readers never see half a file."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".part", dir=target.parent)
    os.close(fd)
    return Path(name)
