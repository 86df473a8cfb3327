"""When to fetch a remote JWKS (spec 4.3, 4.4): the arithmetic of the two clocks, without I/O.

Times are seconds on `RemoteKeySet`'s monotonic clock unless named ``wall`` (POSIX seconds).
``due`` is the keys' expiry: the refresh is due from then on. The startup policy's constants
are here too; `RemoteKeySet.run` sleeps and fetches on their account.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._options import JWKSOptions

STARTUP_ATTEMPTS = 5
STARTUP_FIRST_BACKOFF = 0.2  # seconds, doubled after each failed attempt
STARTUP_DEADLINE = 30.0  # seconds for the whole startup, backoff included


def _elapsed(since: float | None, now: float, interval: float) -> bool:
    return since is None or now - since >= interval


def is_due(due: float | None, now: float) -> bool:
    return due is not None and now >= due


def startup_backoff(attempts: int) -> float:
    """The wait after the ``attempts``-th failed startup attempt."""
    return STARTUP_FIRST_BACKOFF * 2.0 ** (attempts - 1)


def last_startup_attempt(attempts: int, resume_at: float, deadline: float) -> bool:
    """Whether the ``attempts``-th attempt was the last: the count is spent or the backoff
    would end at or past the startup ``deadline`` (both on anyio's clock)."""
    return attempts == STARTUP_ATTEMPTS or resume_at >= deadline


@dataclass(frozen=True)
class Schedule:
    """The rules of one key set's options."""

    options: JWKSOptions

    @property
    def retry_delay(self) -> float:
        """After a failure: the retry interval, never under the floor between fetches."""
        return max(self.options.retry_interval, self.options.min_refresh_interval)

    def may_start(self, last_fetch_start: float | None, now: float) -> bool:
        """The floor between fetches, whatever triggers them."""
        return _elapsed(last_fetch_start, now, self.options.min_refresh_interval)

    def may_refetch_kid(
        self, last_fetch_start: float | None, last_kid_refetch: float | None, now: float
    ) -> bool:
        """An unknown ``kid`` refetches past the floor and its cooldown (counted from the
        previous unknown-``kid`` refetch)."""
        return self.may_start(last_fetch_start, now) and _elapsed(
            last_kid_refetch, now, self.options.kid_cooldown
        )

    def refresh_delay(self, expiry: float | None, wall: float) -> float | None:
        """How long after a success to fetch again; None: never (no expiry, no fallback).

        ``expiry`` is the response's (spec 4.2, POSIX seconds), None when it had none.
        """
        if expiry is None:
            lifetime = self.options.fallback_max_age
            if lifetime is None:
                return None
        else:
            lifetime = max(expiry - wall, 0.0)
        return max(lifetime, self.options.min_refresh_interval)

    def due_after_failure(self, due: float | None, now: float) -> float:
        """The retry, unless a refresh was already planned sooner: a failure never postpones it."""
        retry_at = now + self.retry_delay
        if due is None or due <= now or due > retry_at:
            return retry_at
        return due

    def next_fetch_at(self, due: float | None, last_fetch_start: float | None) -> float | None:
        """When the refresher fetches: at ``due``, but not within the floor of the last fetch."""
        if due is None:
            return None
        if last_fetch_start is None:
            return due
        return max(due, last_fetch_start + self.options.min_refresh_interval)
