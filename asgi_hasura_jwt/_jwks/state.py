"""What one remote key set knows (spec 4.3): its keys, when to refetch them, how fetches went.

`RemoteKeySet` runs the fetches; each outcome lands here. A success replaces the keys only when
they changed and plans the refresh from the expiry headers (`expiry`); a failure keeps the last
good keys and plans the retry (`schedule`). `status` is the health-check view of it all.
No I/O: the refresher is told of a new plan through ``wake``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from .._events import JWKSFetchEvent
from .document import KeySet
from .expiry import ExpiryParseError, expiry_from_headers
from .schedule import Schedule

logger = logging.getLogger("asgi_hasura_jwt.jwks")


@dataclass(frozen=True)
class JWKSStatus:
    """A snapshot of one remote key set, for health checks. Times are POSIX seconds."""

    url: str  # any password in the URL is masked
    ready: bool  # usable keys are present
    key_ids: tuple[str, ...]
    key_count: int
    version: int  # incremented whenever the usable keys change
    last_success: float | None
    last_attempt: float | None
    last_error: str | None  # why the latest fetch failed; None when it succeeded
    consecutive_failures: int
    next_refresh: float | None  # None: no refresh planned (no expiry and no fallback, or stopped)
    refresher_running: bool  # a lifespan-owned `run` task keeps the keys fresh


class KeySetState:
    """The keys of one URL and the record of its fetches; ``url`` is the display form."""

    def __init__(self, url: str, schedule: Schedule, *, wake: Callable[[], None]) -> None:
        self.url = url
        self.schedule = schedule
        self._wake = wake
        self.keys = KeySet()
        self.body: bytes | None = None  # the last good document, to skip re-parsing it
        self.version = 0
        # Monotonic times (the key set's ``clock``).
        self.due: float | None = None  # the keys' expiry: refresh from then on
        self.last_fetch_start: float | None = None
        self.last_kid_refetch: float | None = None
        # Wall-clock times, for `status`.
        self.last_success: float | None = None
        self.last_attempt: float | None = None
        self.last_error: str | None = None
        self.failures = 0
        # True while `RemoteKeySet.run` makes its startup attempts: it logs each failure itself,
        # with the backoff it is about to wait, instead of `failed`'s retry interval.
        self.starting = False

    def next_fetch_at(self) -> float | None:
        return self.schedule.next_fetch_at(self.due, self.last_fetch_start)

    def reschedule(self, due: float | None) -> None:
        self.due = due
        self._wake()

    def succeeded(
        self,
        loaded: KeySet | None,
        body: bytes,
        headers: list[tuple[str, str]],
        now: float,
        wall: float,
    ) -> None:
        """Record a fetch of ``body``; ``loaded`` is its keys, None when the body is unchanged."""
        self.body = body
        if loaded is not None and loaded.fingerprint != self.keys.fingerprint:
            self.keys = loaded
            self.version += 1
            logger.info(
                "JWKS from %s updated: %d usable keys, %d skipped, kids %s",
                self.url,
                len(loaded.keys),
                loaded.skipped,
                sorted(loaded.by_kid),
            )
        self.last_success = wall
        self.last_error = None
        self.failures = 0
        try:
            expiry = expiry_from_headers(headers, wall)
        except ExpiryParseError as exc:
            # Spec 4.3: the keys are good, only the schedule is unknown: refetch as after a
            # failure.
            logger.warning(
                "JWKS from %s: %s; refetching in %g s",
                self.url,
                exc,
                self.schedule.options.retry_interval,
            )
            self.reschedule(now + self.schedule.retry_delay)
            return
        delay = self.schedule.refresh_delay(expiry, wall)
        if delay is None:
            logger.debug("JWKS from %s: no expiry headers; no refresh planned", self.url)
            self.reschedule(None)
            return
        source = "no expiry headers" if expiry is None else "expiry headers"
        logger.debug("JWKS from %s: %s; next fetch in %.3g s", self.url, source, delay)
        self.reschedule(now + delay)

    def failed(self, message: str, now: float) -> None:
        """Record a failed fetch; ``message`` is safe to log."""
        self.last_error = message
        self.failures += 1
        due = self.schedule.due_after_failure(self.due, now)
        if due != self.due:
            self.reschedule(due)
        if not self.starting:
            self.log_failure(f"next attempt in {due - now:g} s")

    def log_failure(self, plan: str) -> None:
        logger.warning(
            "fetching the JWKS from %s failed: %s; %s, %s",
            self.url,
            self.last_error,
            f"keeping {len(self.keys.keys)} keys" if self.keys.keys else "no keys yet",
            plan,
        )

    def fetch_event(self, duration: float, at: float) -> JWKSFetchEvent:
        """The ``on_event`` view of the fetch just recorded, ``at`` the wall time it ended."""
        error = self.last_error
        return JWKSFetchEvent(self.url, error is None, duration, len(self.keys.keys), error, at)

    def status(self, *, next_refresh: float | None, refresher_running: bool) -> JWKSStatus:
        return JWKSStatus(
            url=self.url,
            ready=bool(self.keys.keys),
            key_ids=tuple(self.keys.by_kid),
            key_count=len(self.keys.keys),
            version=self.version,
            last_success=self.last_success,
            last_attempt=self.last_attempt,
            last_error=self.last_error,
            consecutive_failures=self.failures,
            next_refresh=next_refresh,
            refresher_running=refresher_running,
        )
