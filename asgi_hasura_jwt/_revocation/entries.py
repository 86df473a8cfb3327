"""The in-process revocation list: which ``sid`` and ``sub`` are revoked, and until when.

Checking a token is a couple of dict lookups, and nothing at all while the list is empty (the
`RevocationList.active` flag). Every entry expires once no token it matches can still be valid,
so the list is bounded by the revocations of one token lifetime.
"""

from __future__ import annotations

import heapq
import json
import math
import time
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from .._errors import InvalidJWT
from .._options import DEFAULT_REVOCATION_TTL
from .._types import Clock

# The reason of the invalid-jwt error (Could not verify JWT: JWTRevoked), as JWTExpired.
REVOKED = "JWTRevoked"
Kind = Literal["sub", "sid"]
KINDS: tuple[Kind, ...] = ("sub", "sid")


class Subject(NamedTuple):
    """What revocation needs from a verified token: ``sub``, ``sid`` (strings or absent) and
    ``iat``. Kept with the cached token and with its sessions. A NamedTuple: one is built on
    every uncached request, and a frozen dataclass costs several times as much to build.
    """

    sub: str | None
    sid: str | None
    iat: float | None

    @staticmethod
    def of(claims: dict[str, Any]) -> Subject | None:
        """The claims' subject; ``None`` when the token has neither ``sub`` nor a string ``sid``
        (no revocation can name it). The parser has checked ``sub`` and ``iat``'s types.
        """
        sub = claims.get("sub")
        sid = claims.get("sid")
        if not isinstance(sid, str):
            sid = None  # a revocation names a string: another JSON value can never match
        if sub is None and sid is None:
            return None
        return Subject(sub, sid, claims.get("iat"))


@dataclass(frozen=True, slots=True)
class Revocation:
    """One entry: the ``sub`` or ``sid`` named ``value`` is revoked as of ``revoked_at`` (Unix
    time) and the entry may be forgotten at ``until``.
    """

    kind: Kind
    value: str
    revoked_at: float
    until: float

    def to_json(self) -> str:
        return json.dumps(
            [self.kind, self.value, self.revoked_at, self.until], separators=(",", ":")
        )

    @classmethod
    def from_json(cls, data: str | bytes) -> Revocation | None:
        """The entry ``to_json`` wrote, or ``None`` for anything else (a shared store is
        outside our control: bad data is skipped, never raised).
        """
        try:
            kind, value, revoked_at, until = json.loads(data)
        except (ValueError, TypeError):
            return None
        numbers = (revoked_at, until)
        if (
            kind not in KINDS
            or not isinstance(value, str)
            or not value
            or not all(type(n) in (int, float) and math.isfinite(n) for n in numbers)
        ):
            return None
        return cls(kind, value, float(revoked_at), float(until))


def revoked_values(sub: object, sid: object) -> list[tuple[Kind, str]]:
    """The arguments of ``revoke``, checked: at least one, each a non-empty string."""
    if sub is None and sid is None:
        raise TypeError("revoke() needs sub= or sid= (or both)")
    named: list[tuple[Kind, str]] = []
    pairs: tuple[tuple[Kind, object], ...] = (("sub", sub), ("sid", sid))
    for kind, value in pairs:
        if value is None:
            continue
        if not isinstance(value, str):
            raise TypeError(f"revoke(): {kind} must be a string, got {type(value).__name__}")
        if not value:
            raise ValueError(f"revoke(): {kind} must not be empty")
        named.append((kind, value))
    return named


class RevocationList:
    """Revoked ``sid`` values (until when) and ``sub`` values (since and until when).

    An entry lives as long as the longest token lifetime seen so far (``exp`` plus skew, from
    ``iat``), capped by ``ttl``; before any token is seen, ``ttl``. Expired entries are dropped
    whenever one is added, so memory is bounded by the revocations made within one lifetime.
    """

    def __init__(self, ttl: float = DEFAULT_REVOCATION_TTL, clock: Clock = time.time) -> None:
        self.active = False  # the hot path's only test: is anything revoked at all?
        self._ttl = ttl
        self._clock = clock
        self._longest: float | None = None
        self._sids: dict[str, float] = {}  # sid -> until
        self._subs: dict[str, tuple[float, float]] = {}  # sub -> (revoked_at, until)
        # Expiry order; an entry extended since it was pushed leaves a stale item behind.
        self._expiry: list[tuple[float, Kind, str]] = []

    def __len__(self) -> int:
        return len(self._sids) + len(self._subs)

    @property
    def lifetime(self) -> float:
        """How long a new entry lives: the longest token lifetime seen, at most ``ttl``."""
        return self._ttl if self._longest is None else self._longest

    def admit(self, claims: dict[str, Any], skew: float, now: float) -> Subject | None:
        """For a token that passed every other check: note its lifetime, raise `check`'s
        error if it is revoked, and return its subject.
        """
        exp = claims.get("exp")
        iat = claims.get("iat")
        issued = now if iat is None else min(iat, now)
        # Without exp a token lives forever: as long as the cap, here.
        lifetime = self._ttl if exp is None else min(exp + skew - issued, self._ttl)
        if self._longest is None or lifetime > self._longest:
            self._longest = lifetime
        subject = Subject.of(claims)
        if self.active and self.refuses(subject, now):
            raise InvalidJWT(REVOKED)
        return subject

    def new(self, kind: Kind, value: str) -> Revocation:
        """An entry revoking ``value`` from now on, for one lifetime."""
        now = self._clock()
        return Revocation(kind, value, now, now + self.lifetime)

    def add(self, entry: Revocation) -> bool:
        """Merge ``entry`` in; whether it changed the list (an already-expired entry does not;
        the same revocation twice does not).
        """
        now = self._clock()
        self._purge(now)
        if entry.until <= now:
            return False
        if entry.kind == "sid":
            until = self._sids.get(entry.value)
            if until is not None and until >= entry.until:
                return False
            self._sids[entry.value] = entry.until
        else:
            old = self._subs.get(entry.value, (-math.inf, -math.inf))
            merged = (max(old[0], entry.revoked_at), max(old[1], entry.until))
            if merged == old:
                return False
            self._subs[entry.value] = merged
        heapq.heappush(self._expiry, (entry.until, entry.kind, entry.value))
        self.active = True
        return True

    def refuses(self, subject: Subject | None, now: float) -> bool:
        """Whether a token of ``subject`` is revoked at ``now``: its ``sid`` is, or its ``sub``
        was revoked at or after its ``iat`` (a token without ``iat`` could be older: refused).
        One call and two dict lookups: it runs on cache hits while anything is revoked.
        """
        if subject is None:
            return False
        if subject.sid is not None:
            until = self._sids.get(subject.sid)
            if until is not None and now < until:
                return True
        if subject.sub is not None:
            entry = self._subs.get(subject.sub)
            if entry is not None and now < entry[1]:
                return subject.iat is None or subject.iat <= entry[0]
        return False

    def _purge(self, now: float) -> None:
        expiry = self._expiry
        while expiry and expiry[0][0] <= now:
            until, kind, value = heapq.heappop(expiry)
            if kind == "sid":
                if self._sids.get(value) == until:
                    del self._sids[value]
            elif self._subs.get(value, (0.0, None))[1] == until:
                del self._subs[value]
        # Entries extended again and again leave stale items: rebuild before they add up.
        if len(expiry) > 2 * len(self) + 64:
            self._expiry = [(u, "sid", v) for v, u in self._sids.items()]
            self._expiry += [(u, "sub", v) for v, (_, u) in self._subs.items()]
            heapq.heapify(self._expiry)
        self.active = bool(self._sids or self._subs)
