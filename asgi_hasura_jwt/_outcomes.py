"""From one authentication to its `AuthEvent`: the cache probe, the outcome, and the DEBUG line
that says why a request was refused (on ``asgi_hasura_jwt.auth``: code, status and message,
never the token).

The HTTP and websocket glue call `authenticate` instead of `Authenticator.authenticate`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from ._errors import AuthError
from ._events import AuthEvent, CacheResult, Events, Outcome, Transport
from ._session import Session, SessionSource

if TYPE_CHECKING:
    from ._auth import Authenticator

logger = logging.getLogger("asgi_hasura_jwt.auth")

OUTCOMES: dict[SessionSource, Outcome] = {
    "token": "allowed",
    "admin": "admin",
    "unauthorized": "anonymous",
}
_NO_PROBE = contextlib.nullcontext()


class Probe:
    """What one `Authenticator.authenticate` call did with the token cache, for its event.

    Passed only when someone listens: without hooks the authenticator is called without one.
    """

    __slots__ = ("cache", "verify_seconds")

    def __init__(self) -> None:
        self.cache: CacheResult | None = None
        self.verify_seconds: float | None = None

    @contextlib.contextmanager
    def _verifying(self) -> Iterator[None]:
        self.cache = "miss"
        started = time.perf_counter()
        try:
            yield
        finally:
            self.verify_seconds = time.perf_counter() - started


def verifying(probe: Probe | None) -> contextlib.AbstractContextManager[None]:
    """Around an uncached verification: marks the miss and times it (failures included)."""
    return _NO_PROBE if probe is None else probe._verifying()


async def authenticate(
    authenticator: Authenticator,
    headers: Sequence[tuple[bytes, bytes]],
    transport: Transport,
    events: Events | None,
) -> Session:
    """`Authenticator.authenticate`, with its event emitted and a refusal logged at DEBUG."""
    probe = None if events is None else Probe()
    try:
        session = await authenticator.authenticate(headers, probe)
    except AuthError as error:
        logger.debug(
            "%s request refused: %s (HTTP %d): %s",
            transport,
            error.code,
            error.status,
            error.message,
        )
        if events is not None and probe is not None:
            events.emit(
                AuthEvent(
                    transport,
                    "denied",
                    error.code,
                    error.status,
                    probe.cache,
                    probe.verify_seconds,
                    error.message,
                )
            )
        raise
    if events is not None and probe is not None:
        outcome = OUTCOMES[session.source]
        events.emit(AuthEvent(transport, outcome, None, None, probe.cache, probe.verify_seconds))
    return session
