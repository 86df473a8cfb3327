"""The ``on_event`` stream: one typed event per outcome, and the dispatcher the core calls.

Every authentication (HTTP request, websocket handshake or ``connection_init``, public path),
every JWKS fetch and every websocket opened or closed becomes one immutable event, handed
synchronously to each hook in order. A hook never reaches a request: an ``Exception`` it
raises is logged (the first one per hook at ERROR with its traceback, later ones at DEBUG) and
ignored. Events hold no token, user, ``kid`` or session: labels built from them come from
closed lists (the Prometheus sink) and the JWKS URL is its display form (password masked).

Without a hook the core holds ``None`` instead of an `Events` and builds no event at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeAlias

logger = logging.getLogger("asgi_hasura_jwt.events")

Transport: TypeAlias = Literal["http", "websocket"]
Outcome: TypeAlias = Literal["allowed", "denied", "anonymous", "admin", "public"]
CacheResult: TypeAlias = Literal["hit", "miss"]
CloseReason: TypeAlias = Literal["expired", "revoked", "init_failed", "unauthorized", "client"]


@dataclass(frozen=True, slots=True)
class AuthEvent:
    """One authentication: an HTTP request, a websocket handshake or ``connection_init``, or a
    public path (never authenticated).

    ``outcome``: ``allowed`` (a token verified), ``denied`` (an `AuthError`), ``anonymous`` (no
    token, the unauthorized role), ``admin`` (the admin secret), ``public`` (a public path).
    ``code``, ``status`` and ``message`` are the error's Hasura code, HTTP status and message
    when denied, else ``None``. ``cache`` is ``"hit"`` when a verified token was found in the
    cache, ``"miss"`` when a token was verified from scratch (successfully or not), ``None``
    when no token was looked up. ``verify_seconds`` is how long that uncached verification took
    (a JWKS fetch it waited for included); ``None`` unless ``cache == "miss"``.
    """

    transport: Transport
    outcome: Outcome
    code: str | None = None
    status: int | None = None
    cache: CacheResult | None = None
    verify_seconds: float | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class JWKSFetchEvent:
    """One fetch of a ``jwk_url``, successful or not (spec 4.3).

    ``url`` is the display form (any password masked); ``duration`` the seconds it took;
    ``key_count`` the usable keys after it (a failure keeps the last good ones); ``error`` why
    it failed (``None`` on success); ``at`` the POSIX time it ended — on success, the key
    set's ``JWKSStatus.last_success``.
    """

    url: str
    success: bool
    duration: float
    key_count: int
    error: str | None
    at: float


@dataclass(frozen=True, slots=True)
class WebSocketEvent:
    """A websocket the middleware authenticates, opened (the app accepted it) or closed.

    ``reason`` (``None`` for ``open``): ``expired`` (our 4403 close at the token's expiry),
    ``revoked`` (our 4403 close when a revocation names its token), ``init_failed`` (a
    refused ``connection_init``, or a plain socket refused at the handshake),
    ``unauthorized`` (an operation before init, an invalid or oversized frame), ``client``
    (the client or the app ended it). Every socket that opened closes once; ``accepted`` is
    false only for the close of a handshake refused before any open.
    """

    kind: Literal["open", "close"]
    reason: CloseReason | None = None
    accepted: bool = True


Event: TypeAlias = AuthEvent | JWKSFetchEvent | WebSocketEvent
EventHook: TypeAlias = Callable[[Event], object]

# The events that carry nothing per request, built once: the fast path emits them as they are.
HTTP_CACHE_HIT = AuthEvent("http", "allowed", cache="hit")
PUBLIC = {"http": AuthEvent("http", "public"), "websocket": AuthEvent("websocket", "public")}
WEBSOCKET_OPEN = WebSocketEvent("open")
HANDSHAKE_REFUSED = WebSocketEvent("close", "init_failed", accepted=False)


class Events:
    """The ``on_event`` hooks (validated by `Settings`), called in order for every event."""

    __slots__ = ("_failed", "_hooks")

    def __init__(self, hooks: Sequence[EventHook]) -> None:
        self._hooks = tuple(hooks)
        self._failed: set[int] = set()

    @classmethod
    def of(cls, hooks: Sequence[EventHook]) -> Events | None:
        """The dispatcher, or ``None`` without hooks: emission sites then build no event."""
        return cls(hooks) if hooks else None

    def emit(self, event: Event) -> None:
        for hook in self._hooks:
            try:
                hook(event)
            except Exception:
                # A hook is observability: it may fail, the request must not. Cancellation
                # and other BaseExceptions are not ours to swallow.
                self._report(hook)

    def _report(self, hook: EventHook) -> None:
        # By identity: `_hooks` keeps every hook alive, and a hook need not be hashable.
        if id(hook) in self._failed:
            logger.debug("on_event hook %r raised again; ignored", hook, exc_info=True)
            return
        self._failed.add(id(hook))
        logger.error(
            "on_event hook %r raised; ignored (later failures of this hook are logged at DEBUG)",
            hook,
            exc_info=True,
        )
