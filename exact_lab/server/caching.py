"""HTTP caching headers shared by the handlers and the warm-tile fast path, so both answer alike.

A URL carrying ``?v=<content hash>`` names one version of a slide and may be cached for good;
without it the browser must revalidate (the ETag makes that a cheap 304).
"""

from __future__ import annotations

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "private, no-cache"


def etag(content_hash: str, *parts) -> str:
    """A strong ETag naming this content and this rendition of it (tile, format, size ...)."""
    text = "-".join([content_hash, *map(str, parts)])
    return '"' + "".join(c for c in text if c.isalnum() or c in "-_.") + '"'


def cache_control(version: str | None, content_hash: str) -> str:
    return IMMUTABLE if version == content_hash else REVALIDATE


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    """True when an If-None-Match header names ``tag`` (weak or strong) or is ``*``."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == tag:
            return True
    return False
