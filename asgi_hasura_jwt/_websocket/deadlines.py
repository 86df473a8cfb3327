"""A wall-clock deadline that a task can sleep on without polling (spec 5, expiry).

A websocket must close at its token's ``exp + allowed_skew``, a wall-clock instant. The waiter
sleeps in an anyio cancel scope whose deadline sits in the event loop's own timer heap (asyncio's
``call_at`` heap, trio's deadline queue), so thousands of open sockets cost thousands of heap
entries and no wake-ups until one of them is due.
"""

from __future__ import annotations

import math

import anyio

from .._types import Clock


class Deadline:
    """The instant a session expires; it can only move earlier (spec 5: a second
    ``connection_init`` keeps the earlier of the two deadlines).
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._at = math.inf
        self._sleep: anyio.CancelScope | None = None

    def move_earlier(self, at: float) -> None:
        """Keep the earlier of the current instant and ``at``; wake the waiter to re-arm."""
        if at < self._at:
            self._at = at
            if self._sleep is not None:
                self._sleep.cancel()

    async def wait(self) -> None:
        """Return once ``clock()`` has reached the instant.

        The loop's timer runs on a monotonic clock, so the wall clock is read again on every
        wake-up: if it was stepped back the waiter sleeps again rather than close a socket whose
        token HTTP would still accept. (A step forward is only seen when the timer fires.)
        """
        while (remaining := self._at - self._clock()) > 0:
            # math.inf stays inf: an unset deadline sleeps until move_earlier() cancels it.
            with anyio.CancelScope(deadline=anyio.current_time() + remaining) as sleep:
                self._sleep = sleep
                try:
                    await anyio.sleep_forever()
                finally:
                    self._sleep = None
