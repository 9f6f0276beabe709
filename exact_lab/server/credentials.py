"""Request credentials that passed Jupyter's authentication a moment ago.

A viewer fetches tiles by the hundred with the same token or cookie. Running Jupyter's identity
provider for each one costs more than sending a cached tile, so a tile request whose credentials
(token, cookie, host and origin headers, exactly as sent) were accepted within ``TTL`` seconds is
trusted again without asking. Anything not seen before, or seen too long ago, goes through the
full check; failures are never remembered.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

TTL = 10.0
MAX_ENTRIES = 256


def credentials_key(request) -> tuple:
    """Everything Jupyter's authentication and host/origin checks look at in a GET request."""
    headers = request.headers
    token = request.query_arguments.get("token")
    return (request.host, headers.get("Authorization"), headers.get("Cookie"), headers.get("Origin"),
            token[-1] if token else None)


class CredentialCache:
    def __init__(self, ttl: float = TTL, max_entries: int = MAX_ENTRIES):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, tuple[float, object, tuple]] = OrderedDict()
        self._lock = threading.Lock()

    def lookup(self, request) -> tuple[object, tuple] | None:
        """(user, response headers Jupyter added) if these credentials passed recently, else None."""
        key = credentials_key(request)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, user, headers = entry
            if expires < time.monotonic():
                del self._entries[key]
                return None
            return user, headers

    def remember(self, request, user, headers: tuple = ()) -> None:
        """Record credentials that just passed authentication and authorization."""
        if not user:
            return
        key = credentials_key(request)
        with self._lock:
            self._entries[key] = (time.monotonic() + self.ttl, user, tuple(headers))
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
