"""Slides opened for a route a moment ago.

Checking a route's path (resolving symlinks) and asking ``open_slide`` whether the file changed
costs several system calls. Tile requests for one slide come in bursts, so a route that passed the
checks keeps its opened slide for ``TTL`` seconds; after that the next request checks again (and
sees a changed or removed file).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

TTL = 2.0
MAX_ENTRIES = 1024


@dataclass(frozen=True)
class OpenedRoute:
    slide: object
    public: bool  # a pseudonymised slide (``@token`` route): nothing may name the file


class OpenedRoutes:
    def __init__(self, ttl: float = TTL, max_entries: int = MAX_ENTRIES):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[float, OpenedRoute]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, root: str, route: str) -> OpenedRoute | None:
        key = (root, route)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[key]
                return None
            return entry[1]

    def put(self, root: str, route: str, opened: OpenedRoute) -> None:
        key = (root, route)
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, opened)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
