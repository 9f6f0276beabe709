"""A small thread-safe map whose entries expire after ``ttl`` seconds, least recent dropped first."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict


class ExpiringCache:
    def __init__(self, ttl: float, max_entries: int):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[object, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        """The value stored under ``key`` less than ``ttl`` seconds ago, else None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if expires < time.monotonic():
                del self._entries[key]
                return None
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
