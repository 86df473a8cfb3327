"""Remote keys: a JWKS fetched with httpx and kept fresh on Hasura's schedule (spec 4).

`RemoteKeySet` follows panva/jose's remote key set: freshness comes from the response's expiry
headers (4.2), unknown-``kid`` refetches are limited by a cooldown, one fetch at most is in
flight whoever triggered it, and a failed fetch never replaces the last good keys. The schedule
is driven either by `RemoteKeySet.run` (owned by the lifespan, 4.4) or, without lifespan, by the
requests themselves. `download` and `document` do one fetch's work.

``clock`` and ``sleep`` drive the schedule only; per-attempt timeouts use anyio's own clock.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import anyio
import anyio.abc
import httpx

from .._errors import ConfigError, InvalidJWT, JWKSStartupError
from .._keys import VerificationKey
from .._options import DEFAULT_JWKS_OPTIONS, MAX_JWKS_BYTES, JWKSOptions, count
from .document import KeySet, UnusableDocument, parse_document
from .download import DownloadFailed, download, new_client
from .expiry import ExpiryParseError, expiry_from_headers

logger = logging.getLogger("asgi_hasura_jwt.jwks")

STARTUP_ATTEMPTS = 5
STARTUP_FIRST_BACKOFF = 0.2  # seconds, doubled after each failed attempt
STARTUP_DEADLINE = 30.0  # seconds for the whole startup, backoff included
_MASK = "***"


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


class _InFlight:
    """The one fetch in progress; others wait on ``done``."""

    __slots__ = ("done", "ok")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.ok: bool | None = None  # None: the task running it was cancelled


def _display_url(url: httpx.URL) -> str:
    return str(url.copy_with(username=url.username, password=_MASK)) if url.password else str(url)


class RemoteKeySet:
    """The keys of one ``jwk_url``, refreshed on Hasura's schedule with our fixes (spec 4.3).

    `run` is the lifespan-owned refresher; without it, `keys_for` fetches on demand. Either way
    one fetch at most is in flight.
    """

    # Set on the instance while `run` makes its startup attempts: `_startup` logs each failure
    # itself, with the backoff it is about to wait, instead of `_fail`'s retry interval.
    _starting = False

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
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except (TypeError, httpx.InvalidURL) as exc:
            raise ConfigError(f"jwk_url is not a valid URL: {exc}") from exc
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ConfigError("jwk_url must be an http:// or https:// URL with a host")
        self._url = parsed
        self.url = _display_url(parsed)
        self._min_interval = options.min_refresh_interval
        self._fallback_max_age = options.fallback_max_age
        self._retry_interval = options.retry_interval
        self._kid_cooldown = options.kid_cooldown
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

        self._keys = KeySet()
        self._body: bytes | None = None  # the last good document, to skip re-parsing it
        self._version = 0
        # Monotonic times (``clock``).
        self._due: float | None = None  # the keys' expiry: refresh from then on
        self._last_fetch_start: float | None = None
        self._last_kid_refetch: float | None = None
        # Wall-clock times, for `status`.
        self._last_success: float | None = None
        self._last_attempt: float | None = None
        self._last_error: str | None = None
        self._failures = 0

        self._in_flight: _InFlight | None = None
        self._background = False  # `run` owns the schedule
        self._closed = False  # after shutdown or `aclose`: no further fetch
        self._wake: anyio.CancelScope | None = None  # the refresher's sleep, to reschedule it

    @property
    def version(self) -> int:
        """Incremented whenever the usable keys change (caches of verified tokens clear on it)."""
        return self._version

    # --- request path -------------------------------------------------------------------

    async def keys_for(self, kid: str | None) -> Sequence[VerificationKey]:
        """Keys to try for a token with this ``kid`` (spec 4.3 key choice, 4.4).

        May wait for one shared fetch (its network part bounded by ``fetch_timeout``): for the
        first keys, for keys past their expiry (only without a running refresher; on failure
        the stale keys are used), or once per cooldown for an unknown ``kid``. Raises
        `InvalidJWT` ``JWSError NoUsableKeys`` when there are no keys.
        """
        now = self._clock()
        outcome = None
        if not self._keys.keys:
            # With a refresher running, requests only join its fetch; it owns the retries.
            outcome = await self._refresh(start=not self._background and self._may_start(now))
        elif not self._background and self._is_due(now) and self._may_start(now):
            outcome = await self._refresh(start=True)
        # A fetch this request just ran or waited for has answered the unknown kid already.
        if kid is not None and kid not in self._keys.by_kid and outcome is None:
            now = self._clock()
            start = self._may_start(now) and (
                self._last_kid_refetch is None or now - self._last_kid_refetch >= self._kid_cooldown
            )
            if start and self._in_flight is None:
                self._last_kid_refetch = now
                logger.debug("unknown kid: refetching the JWKS from %s", self.url)
            await self._refresh(start=start)
        if not self._keys.keys:
            raise InvalidJWT("JWSError NoUsableKeys")
        if kid is not None:
            chosen = self._keys.by_kid.get(kid)
            if chosen is not None:
                return chosen
        return self._keys.keys

    def _may_start(self, now: float) -> bool:
        # The floor between fetches holds whatever triggers them (spec 4.3, 4.4).
        return not self._closed and (
            self._last_fetch_start is None or now - self._last_fetch_start >= self._min_interval
        )

    def _is_due(self, now: float) -> bool:
        return self._due is not None and now >= self._due

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
        previous_start = self._last_fetch_start
        self._last_fetch_start = self._clock()
        try:
            in_flight.ok = await self._fetch_once()
            return in_flight.ok
        finally:
            if in_flight.ok is None:
                # Cancelled: it did not count as a fetch for the floor.
                self._last_fetch_start = previous_start
            self._in_flight = None
            in_flight.done.set()

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
        attempts = 0
        self._starting = True
        try:
            with anyio.move_on_after(STARTUP_DEADLINE) as deadline:
                while True:
                    attempts += 1
                    # The floor does not apply: these attempts are the startup policy.
                    if await self._refresh(start=True):
                        return
                    backoff = STARTUP_FIRST_BACKOFF * 2 ** (attempts - 1)
                    last = attempts == STARTUP_ATTEMPTS or (
                        anyio.current_time() + backoff >= deadline.deadline
                    )
                    self._log_failure(
                        "that was the last startup attempt"
                        if last
                        else f"next attempt in {backoff:g} s"
                    )
                    if last:
                        break
                    await self._sleep(backoff)
        finally:
            self._starting = False
        last_error = self._last_error or f"no keys within {STARTUP_DEADLINE:g} s"
        message = (
            f"could not fetch the JWKS from {self.url} "
            f"({attempts} attempt{'s' * (attempts != 1)}): {last_error}"
        )
        if self._required_at_startup:
            raise JWKSStartupError(message)
        retry = max(self._retry_interval, self._min_interval)
        logger.warning("%s; starting without keys, retrying in %g s", message, retry)
        self._reschedule(self._clock() + retry)

    def _next_fetch_at(self) -> float | None:
        if self._due is None:
            return None
        last = self._last_fetch_start
        return self._due if last is None else max(self._due, last + self._min_interval)

    async def _wait_until_due(self) -> None:
        while True:
            target = self._next_fetch_at()
            delay = math.inf if target is None else target - self._clock()
            if delay <= 0:
                return
            # A fetch triggered by a request reschedules; it cancels this sleep to say so.
            with anyio.CancelScope() as self._wake:
                await self._sleep(delay)
            self._wake = None

    def _reschedule(self, due: float | None) -> None:
        self._due = due
        if self._wake is not None:
            self._wake.cancel()

    # --- one fetch --------------------------------------------------------------------------

    async def _fetch_once(self) -> bool:
        self._last_attempt = self._wall_clock()
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
            loaded = None if body == self._body else await parse_document(body, self.url)
        except (DownloadFailed, UnusableDocument) as exc:
            self._fail(str(exc))
            return False
        except TimeoutError:
            self._fail(f"timed out after {self._fetch_timeout:g} s")
            return False
        except httpx.HTTPError as exc:
            self._fail(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
            return False
        except Exception as exc:  # fail closed: keep the last good keys, keep the server up
            logger.warning("unexpected error fetching the JWKS from %s", self.url, exc_info=True)
            self._fail(f"unexpected {type(exc).__name__}")
            return False
        self._succeed(loaded, body, headers)
        return True

    def _succeed(self, loaded: KeySet | None, body: bytes, headers: list[tuple[str, str]]) -> None:
        now, wall = self._clock(), self._wall_clock()
        self._body = body
        if loaded is not None and loaded.fingerprint != self._keys.fingerprint:
            self._keys = loaded
            self._version += 1
            logger.info(
                "JWKS from %s updated: %d usable keys, %d skipped, kids %s",
                self.url,
                len(loaded.keys),
                loaded.skipped,
                sorted(loaded.by_kid),
            )
        self._last_success = wall
        self._last_error = None
        self._failures = 0
        try:
            expiry = expiry_from_headers(headers, wall)
        except ExpiryParseError as exc:
            # Spec 4.3: the keys are good, only the schedule is unknown: refetch as after a
            # failure.
            logger.warning(
                "JWKS from %s: %s; refetching in %g s", self.url, exc, self._retry_interval
            )
            self._reschedule(now + max(self._retry_interval, self._min_interval))
            return
        if expiry is None:
            lifetime = self._fallback_max_age
            source = "no expiry headers"
        else:
            lifetime = max(expiry - wall, 0.0)
            source = "expiry headers"
        if lifetime is None:
            logger.debug("JWKS from %s: no expiry headers; no refresh planned", self.url)
            self._reschedule(None)
            return
        delay = max(lifetime, self._min_interval)
        logger.debug("JWKS from %s: %s; next fetch in %.3g s", self.url, source, delay)
        self._reschedule(now + delay)

    def _fail(self, message: str) -> None:
        now = self._clock()
        self._last_error = message
        self._failures += 1
        retry_at = now + max(self._retry_interval, self._min_interval)
        due = self._due
        # A failure never postpones a refresh that was already planned sooner.
        if due is None or due <= now or due > retry_at:
            due = retry_at
            self._reschedule(due)
        if not self._starting:
            self._log_failure(f"next attempt in {due - now:g} s")

    def _log_failure(self, plan: str) -> None:
        logger.warning(
            "fetching the JWKS from %s failed: %s; %s, %s",
            self.url,
            self._last_error,
            f"keeping {len(self._keys.keys)} keys" if self._keys.keys else "no keys yet",
            plan,
        )

    # --- state ----------------------------------------------------------------------------

    def status(self) -> JWKSStatus:
        """A snapshot for health checks (spec 4.3: last success, next refresh, error, kids)."""
        target = None if self._closed else self._next_fetch_at()
        next_refresh = (
            None if target is None else self._wall_clock() + max(target - self._clock(), 0.0)
        )
        return JWKSStatus(
            url=self.url,
            ready=bool(self._keys.keys),
            key_ids=tuple(self._keys.by_kid),
            key_count=len(self._keys.keys),
            version=self._version,
            last_success=self._last_success,
            last_attempt=self._last_attempt,
            last_error=self._last_error,
            consecutive_failures=self._failures,
            next_refresh=next_refresh,
            refresher_running=self._background,
        )

    async def aclose(self) -> None:
        """Stop fetching; close the httpx client if this key set created it."""
        self._closed = True
        if self._owns_client and self._client is not None:
            client, self._client = self._client, None
            await client.aclose()
