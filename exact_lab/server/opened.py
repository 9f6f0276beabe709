"""Slides opened for a route a moment ago.

Checking a route's path (resolving symlinks) and asking ``open_slide`` whether the file changed
costs several system calls. Tile requests for one slide come in bursts, so a route that passed the
checks keeps its opened slide for ``TTL`` seconds; after that the next request checks again (and
sees a changed or removed file).
"""

from __future__ import annotations

from dataclasses import dataclass

from .expiring import ExpiringCache

TTL = 2.0
MAX_ENTRIES = 1024


@dataclass(frozen=True)
class OpenedRoute:
    slide: object
    public: bool  # a pseudonymised slide (``@token`` route): nothing may name the file


class OpenedRoutes:
    def __init__(self, ttl: float = TTL, max_entries: int = MAX_ENTRIES):
        self._cache = ExpiringCache(ttl, max_entries)

    def get(self, root: str, route: str) -> OpenedRoute | None:
        return self._cache.get((root, route))

    def put(self, root: str, route: str, opened: OpenedRoute) -> None:
        self._cache.put((root, route), opened)

    def clear(self) -> None:
        self._cache.clear()
