"""One pass over a request's headers: secrets, role, session headers, tokens (spec 2.1-2.3).

Header names from ASGI servers are lower-case bytes; values are decoded as latin-1, as ASGI
frameworks do.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote

from ._config import TokenLocation
from ._errors import InvalidHeaders

_ADMIN_SECRET = b"x-hasura-admin-secret"
_ACCESS_KEY = b"x-hasura-access-key"
_ROLE = b"x-hasura-role"
_HASURA_PREFIX = b"x-hasura-"
_AUTHORIZATION = b"authorization"
_COOKIE = b"cookie"
_SPACE_OR_TAB = " \t"


@dataclass
class RequestHeaders:
    """What authentication needs from one request's headers, gathered in one pass."""

    admin_secret: bytes | None = None
    access_key: bytes | None = None
    role: str | None = None
    # x-hasura-* headers other than the secrets, first occurrence of each name
    session_headers: dict[str, str] = field(default_factory=dict)
    authorization: list[str] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    custom: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(
        cls, headers: Sequence[tuple[bytes, bytes]], custom_names: Collection[bytes]
    ) -> RequestHeaders:
        found = cls()
        for raw_name, value in headers:
            name = raw_name.lower()
            if name == _AUTHORIZATION:
                found.authorization.append(value.decode("latin-1"))
            elif name == _COOKIE:
                found.cookies.append(value.decode("latin-1"))
            elif name.startswith(_HASURA_PREFIX):
                # The secret headers: the last one counts; they never enter a session.
                if name == _ADMIN_SECRET:
                    found.admin_secret = value
                elif name == _ACCESS_KEY:
                    found.access_key = value
                else:
                    found.session_headers.setdefault(
                        name.decode("latin-1"), value.decode("latin-1")
                    )
            if name in custom_names:
                found.custom.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        found.role = found.session_headers.get("x-hasura-role")
        return found

    def tokens_at(self, location: TokenLocation) -> list[str]:
        """Every token candidate at ``location``; a malformed Authorization header raises."""
        if location.kind == "Authorization":
            return [_bearer_token(value) for value in self.authorization]
        if location.kind == "Cookie":
            return [
                value
                for header in self.cookies
                for name, value in _cookie_pairs(header)
                if name == location.name
            ]
        return self.custom.get(location.name, [])


def _bearer_token(value: str) -> str:
    # Only SP and HTAB separate the scheme and the token (RFC 9110 section 11.1).
    parts = value.strip(_SPACE_OR_TAB).replace("\t", " ").split(" ")
    words = [part for part in parts if part]
    # Ours: the scheme is case-insensitive (RFC 9110 11.1, RFC 6750); Hasura wants "Bearer".
    if len(words) != 2 or words[0].lower() != "bearer":
        raise InvalidHeaders("Malformed Authorization header")
    return words[1]


def _cookie_pairs(header: str) -> list[tuple[str, str]]:
    # Not http.cookies.SimpleCookie: it drops every cookie after a malformed one (spec 7.10).
    pairs = []
    for piece in header.split(";"):
        name, separator, value = piece.lstrip(" ").partition("=")
        if separator:
            pairs.append((name, unquote(value)))
    return pairs
