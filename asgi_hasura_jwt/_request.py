"""One pass over a request's headers: secrets, role, session headers, tokens (spec 2.1-2.3).

Header text is decoded as UTF-8, leniently, as Hasura does (spec 2.2). This runs on every request,
cache hits included, so it allocates only for the headers that are present.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from urllib.parse import quote, unquote

from ._config import TokenLocation
from ._errors import InvalidHeaders
from ._names import (
    ACCESS_KEY_HEADER,
    ADMIN_SECRET_HEADER,
    AUTHORIZATION_HEADER,
    COOKIE_HEADER,
    HASURA_PREFIX_HEADER,
    HASURA_PREFIX_LENGTH,
    ROLE,
    ROLE_HEADER,
)
from ._session import Session, SessionSource

# Read-only by convention: never appended to (see RequestHeaders.__init__).
_NO_VALUES: list[str] = []
_NO_RAW_VALUES: list[bytes] = []
_NO_HEADERS: dict[str, str] = {}
_NO_CUSTOM: dict[str, list[str]] = {}
# surrogateescape turns each undecodable byte into one of these; each becomes one U+FFFD.
_ESCAPED_BYTES = dict.fromkeys(range(0xDC80, 0xDD00), "\ufffd")


def header_text(value: bytes) -> str:
    """Header bytes as Hasura's ``bsToTxt`` reads them: UTF-8, each invalid byte one U+FFFD.

    Python's ``"replace"`` handler would turn a truncated sequence into a single U+FFFD where
    Haskell's ``lenientDecode`` (text >= 2) replaces byte by byte.
    """
    try:
        return value.decode()
    except UnicodeDecodeError:
        # Strict UTF-8 never yields a surrogate: every one here stands for an invalid byte.
        return value.decode("utf-8", "surrogateescape").translate(_ESCAPED_BYTES)


class RequestHeaders:
    """What authentication needs from one request's headers, gathered in one pass."""

    __slots__ = (
        "access_key",
        "admin_secret",
        "authorization",
        "cookies",
        "custom",
        "session_headers",
    )

    def __init__(
        self, headers: Sequence[tuple[bytes, bytes]], custom_names: Collection[bytes] = ()
    ) -> None:
        self.admin_secret: bytes | None = None
        self.access_key: bytes | None = None
        # x-hasura-* headers other than the secrets, first occurrence of each name
        self.session_headers: dict[str, str] = _NO_HEADERS
        self.authorization: list[bytes] = _NO_RAW_VALUES
        self.cookies: list[str] = _NO_VALUES
        self.custom: dict[str, list[str]] = _NO_CUSTOM
        # The shared empty containers above are replaced on first use: most requests carry
        # one Authorization header and nothing else of interest.
        for raw_name, value in headers:
            # ASGI servers send lower-case names; a hand-built scope may not.
            name = raw_name.lower()
            if name == AUTHORIZATION_HEADER:
                if self.authorization is _NO_RAW_VALUES:
                    self.authorization = []
                self.authorization.append(value)
            elif name == COOKIE_HEADER:
                if self.cookies is _NO_VALUES:
                    self.cookies = []
                self.cookies.append(header_text(value))
            elif name[:HASURA_PREFIX_LENGTH] == HASURA_PREFIX_HEADER:
                # The secret headers: the last one counts; they never enter a session.
                if name == ADMIN_SECRET_HEADER:
                    self.admin_secret = value
                elif name == ACCESS_KEY_HEADER:
                    self.access_key = value
                else:
                    if self.session_headers is _NO_HEADERS:
                        self.session_headers = {}
                    self.session_headers.setdefault(header_text(name), header_text(value))
            if custom_names and name in custom_names:
                if self.custom is _NO_CUSTOM:
                    self.custom = {}
                # The key is the configured name, which the Authenticator matched as latin-1
                # bytes: a lookup key, not header text.
                key = name.decode("latin-1")
                self.custom.setdefault(key, []).append(header_text(value))

    @property
    def role(self) -> str | None:
        """The first ``x-hasura-role`` header, if any."""
        return self.session_headers.get(ROLE)

    def header_session(self, role: str, source: SessionSource) -> Session:
        """An admin or unauthorized-role session: the ``x-hasura-*`` headers, and ``role``."""
        variables = dict(self.session_headers)
        variables[ROLE] = role
        return Session(variables, source=source)

    def tokens_at(self, location: TokenLocation) -> list[str]:
        """Every token candidate at ``location``; a malformed Authorization header raises."""
        if location.kind == "Authorization":
            return [_bearer_token(value) for value in self.authorization]
        if location.kind == "Cookie":
            return self.cookie_values(location.name)
        return self.custom.get(location.name, _NO_VALUES)

    def cookie_values(self, name: str) -> list[str]:
        """The value of every cookie named ``name`` (case-sensitive), in request order."""
        return [
            value
            for header in self.cookies
            for cookie_name, value in _cookie_pairs(header)
            if cookie_name == name
        ]


def headers_carrying(
    token: str, location: TokenLocation, role: str | None = None
) -> list[tuple[bytes, bytes]]:
    """The headers of a request that presents ``token`` where ``location`` reads it, asking for
    ``role``: what a client of that config sends, so verifying them answers as for that client.
    """
    value = token.encode("utf-8", "replace")
    if location.kind == "Authorization":
        headers = [(AUTHORIZATION_HEADER, b"Bearer " + value)]
    elif location.kind == "Cookie":
        # Quoted so that the cookie parser's URL-decoding gives back exactly this token.
        quoted = quote(token, safe="", errors="replace").encode("ascii")
        headers = [(COOKIE_HEADER, location.name.encode("latin-1") + b"=" + quoted)]
    else:
        headers = [(location.name.encode("latin-1"), value)]
    if role is not None:
        headers.append((ROLE_HEADER, role.encode("utf-8", "replace")))
    return headers


def plain_bearer(value: bytes) -> str | None:
    """The token of the common spelling, ``Bearer <token>`` with one space and an ASCII token,
    found without splitting; ``None`` for anything else (`_bearer_token` then reads it whole).
    """
    if value[:7] != b"Bearer ":
        return None
    token = value[7:]
    if not token or b" " in token or b"\t" in token or not token.isascii():
        return None
    return token.decode("ascii")


def _bearer_token(raw: bytes) -> str:
    token = plain_bearer(raw)
    if token is not None:
        return token
    value = header_text(raw)
    # Only SP and HTAB separate the scheme and the token (RFC 9110 section 11.1).
    words = [word for word in value.replace("\t", " ").split(" ") if word]
    # Ours: the scheme is case-insensitive (RFC 9110 11.1, RFC 6750); Hasura wants "Bearer".
    if len(words) != 2 or words[0].lower() != "bearer":
        # Another scheme (Basic, an opaque session token) may be another authenticator's.
        raise InvalidHeaders("Malformed Authorization header").as_unclaimed()
    return words[1]


def _cookie_pairs(header: str) -> list[tuple[str, str]]:
    # Not http.cookies.SimpleCookie: it drops every cookie after a malformed one (spec 7.10).
    pairs = []
    for piece in header.split(";"):
        name, separator, value = piece.lstrip(" ").partition("=")
        if separator:
            pairs.append((name, unquote(value)))
    return pairs
