"""A bounded cache of successfully verified tokens (the performance budget, spec 8).

A hit skips parsing, the signature and claims extraction; the time claims are still checked
against the clock and the role is still chosen per request. Failures are never stored. An entry
remembers the version of the key set that verified it, so a JWKS refresh that changes the keys
invalidates it on the next lookup.

With ``by_header`` on, each entry is also found by the exact ``Authorization`` header bytes of
its common spelling (``Bearer <token>``): the cache-hit fast path looks a request up with the
header value it was given, without decoding the token or hashing it twice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, NamedTuple

from ._claims import HasuraClaims
from ._keys import KeySource
from ._revocation import Subject
from ._session import Session

CacheKey = tuple[int, str]  # (config index, the exact token)

# What an entry costs beyond its token, roughly: the objects and dict slots around it.
_ENTRY_OVERHEAD_BYTES = 512
# Decoded claims take about 6.5 times their JSON text as Python objects (measured on Clerk's
# session token: small strings and dict slots); the signed header.payload text stands in for it.
_CLAIMS_BYTES_PER_SIGNED_BYTE = 5


def claims_cost(signing_input: bytes) -> int:
    """The estimated bytes of a token's decoded claims, kept for `Session.claims`."""
    return _CLAIMS_BYTES_PER_SIGNED_BYTE * len(signing_input)


class VerifiedToken(NamedTuple):
    """What a request needs from a token that passed every check once.

    A NamedTuple, not a frozen dataclass: one is built on every uncached request, and a frozen
    dataclass's ``__init__`` costs several times as much.
    """

    config_index: int  # which config verified it; the cache key is (config_index, token)
    key_source: KeySource  # the key set that verified it...
    key_version: int  # ... at this version: a later version means the keys changed
    issuer: str | None
    exp: float | None
    nbf: float | None
    iat: float | None
    hasura: HasuraClaims
    variables: dict[str, str]  # validated session variables, without x-hasura-role
    claims: Mapping[str, Any]  # the verified payload, read-only (`Session.claims`)
    claims_bytes: int  # `claims_cost` of the token, counted in the cache's bound
    # The session per requested role, built on first use: sessions are read-only, so requests
    # with the same token and role share one. At most one per allowed role.
    sessions: dict[str, Session]
    subject: Subject | None  # what a revocation may name (sub, sid, iat)
    # [from, until): where `check_times` surely passes (`validity_window`).
    window: tuple[float, float]

    @property
    def cost(self) -> int:
        # Sessions add up to one per allowed role; counted up front so the bound holds.
        return (
            _ENTRY_OVERHEAD_BYTES
            + self.claims_bytes
            + 64 * len(self.variables) * (1 + len(self.hasura.allowed_roles))
        )


class TokenCache:
    """Least-recently-used, bounded in entries and in (estimated) bytes."""

    def __init__(self, max_entries: int, max_bytes: int, *, by_header: bool = False) -> None:
        self._entries: OrderedDict[CacheKey, VerifiedToken] = OrderedDict()
        # b"Bearer <token>" -> the entry's key, kept in step with `_entries`.
        self._headers: dict[bytes, tuple[CacheKey, VerifiedToken]] | None = (
            {} if by_header else None
        )
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0

    @property
    def enabled(self) -> bool:
        return self._max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def get(self, key: CacheKey) -> VerifiedToken | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def get_by_header(self, authorization: bytes | None) -> VerifiedToken | None:
        """The entry whose token is ``Bearer <token>`` exactly this header value, if any."""
        assert self._headers is not None
        found = self._headers.get(authorization)  # type: ignore[arg-type]
        if found is None:
            return None
        self._entries.move_to_end(found[0])
        return found[1]

    def put(self, key: CacheKey, entry: VerifiedToken) -> None:
        cost = self._key_cost(key) + entry.cost
        if not self.enabled or cost > self._max_bytes:
            return
        self.discard(key)
        self._entries[key] = entry
        if self._headers is not None and key[1].isascii():
            self._headers[_header(key)] = (key, entry)
        self._bytes += cost
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            oldest, evicted = self._entries.popitem(last=False)
            self._forget(oldest)
            self._bytes -= self._key_cost(oldest) + evicted.cost

    def discard(self, key: CacheKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._forget(key)
            self._bytes -= self._key_cost(key) + entry.cost

    def _forget(self, key: CacheKey) -> None:
        # Only if it still names this key: one header holds one token, one config's entry.
        if self._headers is None or not key[1].isascii():
            return
        found = self._headers.get(header := _header(key))
        if found is not None and found[0] == key:
            del self._headers[header]

    def _key_cost(self, key: CacheKey) -> int:
        # The token as text, and once more as header bytes when indexed by header.
        token = len(key[1])
        return 2 * token + len(_BEARER) if self._headers is not None else token


_BEARER = b"Bearer "


def _header(key: CacheKey) -> bytes:
    return _BEARER + key[1].encode("ascii")
