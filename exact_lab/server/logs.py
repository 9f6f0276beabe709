"""Log lines that never carry a credential.

Tornado names the request in every error it logs (``Uncaught exception GET /...?token=...`` and
``404 GET /...?token=...: no such tile``) with the URI as it came, token and all; Jupyter masks
it only in the access log. The handlers log through these functions instead.
"""

from __future__ import annotations

from tornado.log import app_log, gen_log
from tornado.web import HTTPError

# Query keys whose values are secrets (a key that contains one of these), as Jupyter scrubs them.
SECRET_KEYS = ("token", "auth", "key", "code", "state", "xsrf", "password", "secret")


def scrub_uri(uri: str, extra_keys=()) -> str:
    """``uri`` with the value of every secret-looking query parameter replaced by ``[secret]``."""
    path, sep, query = uri.partition("?")
    if not sep:
        return uri
    keys = (*SECRET_KEYS, *extra_keys)
    parts = []
    for part in query.split("&"):
        name, eq, _value = part.partition("=")
        parts.append(f"{name}{eq}[secret]" if any(k in name.lower() for k in keys) else part)
    return f"{path}?{'&'.join(parts)}"


def request_summary(handler) -> str:
    request = handler.request
    extra = handler.settings.get("extra_log_scrub_param_keys", ())
    return f"{request.method} {scrub_uri(request.uri, extra)} ({request.remote_ip})"


def log_exception(handler, typ, value, tb) -> None:
    """What tornado's ``RequestHandler.log_exception`` logs, with the URI scrubbed (and without the
    request's repr, which repeats the URI)."""
    if isinstance(value, HTTPError):
        message = value.get_message() if hasattr(value, "get_message") else value.log_message
        if message:
            gen_log.warning("%d %s: %s", value.status_code, request_summary(handler), message)
    else:
        app_log.error("Uncaught exception %s", request_summary(handler), exc_info=(typ, value, tb))
