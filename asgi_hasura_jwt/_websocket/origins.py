"""Cross-site websocket hijacking (spec 5, ours): whose cookies an upgrade request may use.

A browser attaches cookies to a cross-site websocket upgrade, so they count only when the
request has no ``Origin`` (not a browser), a same-host one, or one the app allows.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[^\s/?#@:\[\]]+|\[[0-9a-f:.]+\])(?::(?P<port>\d+))?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443", "ws": "80", "wss": "443"}


def normalise_origin(origin: str) -> tuple[str, str] | None:
    """``(scheme://host[:port], host[:port])`` lower-cased with the default port dropped, or
    ``None`` for anything that is not a tuple origin (``null`` included; RFC 6454 section 6.2).
    """
    match = _ORIGIN.fullmatch(origin.lower())
    if match is None:
        return None
    scheme, host, port = match.group("scheme", "host", "port")
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}", host


def cookies_trusted(
    headers: Sequence[tuple[bytes, bytes]], allowed_origins: Collection[str]
) -> bool:
    """Whether the upgrade request's cookies may authenticate it; ``allowed_origins`` holds
    normalised origins (`normalise_origin`'s first item)."""
    origins = [value for name, value in headers if name == b"origin"]
    if not origins:
        return True  # not a browser: nobody else's cookies can ride along
    if len(origins) > 1:
        return False
    # "null" (sandboxed or opaque origins) does not parse: cross-site.
    origin = normalise_origin(origins[0].decode("latin-1"))
    if origin is None:
        return False
    serialised, host = origin
    if serialised in allowed_origins:
        return True
    hosts = [value for name, value in headers if name == b"host"]
    return len(hosts) == 1 and hosts[0].decode("latin-1").lower() == host
