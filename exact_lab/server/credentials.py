"""Request credentials that passed Jupyter's authentication a moment ago.

A viewer fetches tiles by the hundred with the same token or cookie. Running Jupyter's identity
provider for each one costs more than sending a cached tile, so a tile request whose credentials
(token, cookie, host and origin headers, exactly as sent) were accepted within ``TTL`` seconds is
trusted again without asking. Anything not seen before, or seen too long ago, goes through the
full check; failures are never remembered.
"""

from __future__ import annotations

from .expiring import ExpiringCache

TTL = 10.0
MAX_ENTRIES = 256


def credentials_key(request) -> tuple:
    """Everything Jupyter's authentication and host/origin checks look at in a GET request."""
    headers = request.headers
    token = request.query_arguments.get("token")
    return (request.host, headers.get("Authorization"), headers.get("Cookie"), headers.get("Origin"),
            token[-1] if token else None)


class CredentialCache(ExpiringCache):
    def __init__(self, ttl: float = TTL, max_entries: int = MAX_ENTRIES):
        super().__init__(ttl, max_entries)

    def lookup(self, request) -> tuple[object, tuple] | None:
        """(user, response headers Jupyter added) if these credentials passed recently, else None."""
        return self.get(credentials_key(request))

    def remember(self, request, user, headers: tuple = ()) -> None:
        """Record credentials that just passed authentication and authorization."""
        if user:
            self.put(credentials_key(request), (user, tuple(headers)))
