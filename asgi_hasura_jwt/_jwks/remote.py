"""Remote keys: one JWKS URL kept fresh on Hasura's schedule, with our fixes (spec 4.3, 4.4).

`RemoteKeySet` follows panva/jose's remote key set: freshness comes from the response's expiry
headers (4.2), unknown-``kid`` refetches are limited by a cooldown, one fetch at most is in
flight whoever triggered it, and a failed fetch never replaces the last good keys. Fetches are
driven either by `RemoteKeySet.run` (owned by the lifespan, 4.4) or, without lifespan, by the
requests themselves. One fetch is `download` then `document`; what fetches leave is `state`;
when the next one is due is `schedule`.

``clock`` and ``sleep`` drive the schedule only; per-attempt timeouts use anyio's own clock.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence

import anyio
import anyio.abc
import httpx

from .._errors import InvalidJWT, JWKSStartupError
from .._events import Events
from .._keys import VerificationKey
from .._options import DEFAULT_JWKS_OPTIONS, MAX_JWKS_BYTES, JWKSOptions, count
from .document import UnusableDocument, parse_document
from .download import DownloadFailed, display_url, download, new_client, parse_url
from .schedule import STARTUP_DEADLINE, Schedule, is_due, last_startup_attempt, startup_backoff
from .state import JWKSStatus, KeySetState

logger = logging.getLogger("asgi_hasura_jwt.jwks")


class _InFlight:
    """The one fetch in progress; others wait on ``done``."""

    __slots__ = ("done", "ok")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.ok: bool | None = None  # None: the task running it was cancelled


class RemoteKeySet:
    """The keys of one ``jwk_url``, refreshed on Hasura's schedule with our fixes (spec 4.3).

    `run` is the lifespan-owned refresher; without it, `keys_for` fetches on demand. Either way
    one fetch at most is in flight.
    """

    def __init__(
        self,
        url: str,
        options: JWKSOptions = DEFAULT_JWKS_OPTIONS,
        *,
        http_client: httpx.AsyncClient | None = None,
        max_bytes: int = MAX_JWKS_BYTES,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        events: Events | None = None,
    ) -> None:
        self._url = parse_url(url)
        self.url = display_url(self._url)
        self._fetch_timeout = options.fetch_timeout
        self._required_at_startup = options.required_at_startup
        self._owns_client = http_client is None
        # Made here, not on the event loop: building a client loads the CA bundle, which
        # blocks for tens of milliseconds.
        self._client: httpx.AsyncClient | None = (
            http_client if http_client is not None else new_client()
        )
        self._max_bytes = count("max_bytes", max_bytes, positive=True)
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep
        self._events = events
        self._state = KeySetState(self.url, Schedule(options), wake=self._wake_refresher)
        self._in_flight: _InFlight | None = None
        self._background = False  # `run` owns the schedule
        self._closed = False  # after shutdown or `aclose`: no further fetch
        self._wake: anyio.CancelScope | None = None  # the refresher's sleep, to reschedule it

    @property
    def version(self) -> int:
        """Incremented whenever the usable keys change (caches of verified tokens clear on it)."""
        return self._state.version

    def keys_now(self, kid: str | None) -> Sequence[VerificationKey] | None:
        """`keys_for`'s answer when it need not wait; ``None`` when it might fetch first."""
        state = self._state
        if not state.keys.keys or (not self._background and is_due(state.due, self._clock())):
            return None  # no keys yet, or keys due without a refresher to renew them
        return state.keys.keys if kid is None else state.keys.by_kid.get(kid)  # None: unknown

    async def keys_for(self, kid: str | None) -> Sequence[VerificationKey]:
        """Keys to try for a token with this ``kid`` (spec 4.3 key choice, 4.4).

        May wait for one shared fetch (its network part bounded by ``fetch_timeout``): for the
        first keys, for keys past their expiry (only without a running refresher; on failure
        the stale keys are used), or once per cooldown for an unknown ``kid``. Raises
        `InvalidJWT` ``JWSError NoUsableKeys`` when there are no keys.
        """
        state = self._state
        now = self._clock()
        outcome = None
        if not state.keys.keys:
            # With a refresher running, requests only join its fetch; it owns the retries.
            outcome = await self._refresh(start=not self._background and self._may_start(now))
        elif not self._background and is_due(state.due, now) and self._may_start(now):
            outcome = await self._refresh(start=True)
        # A fetch this request just ran or waited for has answered the unknown kid already.
        if kid is not None and kid not in state.keys.by_kid and outcome is None:
            now = self._clock()
            start = not self._closed and state.schedule.may_refetch_kid(
                state.last_fetch_start, state.last_kid_refetch, now
            )
            if start and self._in_flight is None:
                state.last_kid_refetch = now
                logger.debug("unknown kid: refetching the JWKS from %s", self.url)
            await self._refresh(start=start)
        if not state.keys.keys:
            raise InvalidJWT("JWSError NoUsableKeys")
        if kid is not None:
            chosen = state.keys.by_kid.get(kid)
            if chosen is not None:
                return chosen
        return state.keys.keys

    def _may_start(self, now: float) -> bool:
        # The floor between fetches holds whatever triggers them (spec 4.3, 4.4).
        return not self._closed and self._state.schedule.may_start(
            self._state.last_fetch_start, now
        )

    async def _refresh(self, *, start: bool) -> bool | None:
        """Join the fetch in flight, or run one if ``start``: whether it succeeded, or None.

        None means there was no fetch to join and none was run. Waiting is bounded by the
        fetch's own ``fetch_timeout`` (plus key import). If the task running the fetch is
        cancelled, a joiner takes over, so a disconnecting client cannot leave the others
        without keys.
        """
        while True:
            in_flight = self._in_flight
            if in_flight is None:
                return await self._run_fetch() if start else None
            await in_flight.done.wait()
            if in_flight.ok is not None or self._closed:
                return bool(in_flight.ok)
            start = True

    async def _run_fetch(self) -> bool:
        in_flight = self._in_flight = _InFlight()
        previous_start = self._state.last_fetch_start
        self._state.last_fetch_start = self._clock()
        try:
            in_flight.ok = await self._fetch_once()
            return in_flight.ok
        finally:
            if in_flight.ok is None:
                # Cancelled: it did not count as a fetch for the floor.
                self._state.last_fetch_start = previous_start
            self._in_flight = None
            in_flight.done.set()

    async def _fetch_once(self) -> bool:
        self._state.last_attempt = self._wall_clock()
        started = time.perf_counter()
        try:
            with anyio.fail_after(self._fetch_timeout):
                if self._client is None:  # closed by `aclose`, then run again by a new lifespan
                    self._client = new_client()
                body, headers = await download(
                    self._client,
                    self._url,
                    max_bytes=self._max_bytes,
                    httpx_timeout=self._fetch_timeout,
                )
            # An unchanged document (the common case when polling) needs no parsing at all.
            loaded = None if body == self._state.body else await parse_document(body, self.url)
        except (DownloadFailed, UnusableDocument) as exc:
            message = str(exc)
        except TimeoutError:
            message = f"timed out after {self._fetch_timeout:g} s"
        except httpx.HTTPError as exc:
            message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        except Exception as exc:  # fail closed: keep the last good keys, keep the server up
            logger.warning("unexpected error fetching the JWKS from %s", self.url, exc_info=True)
            message = f"unexpected {type(exc).__name__}"
        else:
            finished = self._wall_clock()
            self._state.succeeded(loaded, body, headers, self._clock(), finished)
            self._report(started, finished)
            return True
        self._state.failed(message, self._clock())
        self._report(started, self._wall_clock())
        return False

    def _report(self, started: float, at: float) -> None:
        if self._events is not None:
            self._events.emit(self._state.fetch_event(time.perf_counter() - started, at))

    # --- background refresher -------------------------------------------------------------

    async def run(
        self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED
    ) -> None:
        """Fetch the keys, report ``started``, then refresh them on schedule until cancelled.

        The startup fetch makes up to 5 attempts with exponential backoff from 200 ms, within
        30 s. If all fail, raises `JWKSStartupError` (before ``started``) unless
        ``required_at_startup`` is false. After this returns or is cancelled, no further fetch
        happens until `run` is called again.
        """
        if self._background:
            raise RuntimeError(f"a refresher for {self.url} is already running")
        self._background = True
        self._closed = False
        try:
            await self._startup()
            task_status.started()
            while True:
                await self._wait_until_due()
                await self._refresh(start=True)
        finally:
            self._background = False
            self._closed = True

    async def _startup(self) -> None:
        state = self._state
        attempts = 0
        state.starting = True
        try:
            with anyio.move_on_after(STARTUP_DEADLINE) as deadline:
                while True:
                    attempts += 1
                    # The floor does not apply: these attempts are the startup policy.
                    if await self._refresh(start=True):
                        return
                    backoff = startup_backoff(attempts)
                    last = last_startup_attempt(
                        attempts, anyio.current_time() + backoff, deadline.deadline
                    )
                    state.log_failure(
                        "that was the last startup attempt"
                        if last
                        else f"next attempt in {backoff:g} s"
                    )
                    if last:
                        break
                    await self._sleep(backoff)
        finally:
            state.starting = False
        last_error = state.last_error or f"no keys within {STARTUP_DEADLINE:g} s"
        message = (
            f"could not fetch the JWKS from {self.url} "
            f"({attempts} attempt{'s' * (attempts != 1)}): {last_error}"
        )
        if self._required_at_startup:
            raise JWKSStartupError(message)
        retry = state.schedule.retry_delay
        logger.warning("%s; starting without keys, retrying in %g s", message, retry)
        state.reschedule(self._clock() + retry)

    async def _wait_until_due(self) -> None:
        while True:
            target = self._state.next_fetch_at()
            delay = math.inf if target is None else target - self._clock()
            if delay <= 0:
                return
            # A fetch triggered by a request reschedules; it cancels this sleep to say so.
            with anyio.CancelScope() as self._wake:
                await self._sleep(delay)
            self._wake = None

    def _wake_refresher(self) -> None:
        if self._wake is not None:
            self._wake.cancel()

    # --- state ----------------------------------------------------------------------------

    def status(self) -> JWKSStatus:
        """A snapshot for health checks (spec 4.3: last success, next refresh, error, kids)."""
        target = None if self._closed else self._state.next_fetch_at()
        next_refresh = (
            None if target is None else self._wall_clock() + max(target - self._clock(), 0.0)
        )
        return self._state.status(next_refresh=next_refresh, refresher_running=self._background)

    async def aclose(self) -> None:
        """Stop fetching; close the httpx client if this key set created it."""
        self._closed = True
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
