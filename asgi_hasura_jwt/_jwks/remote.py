"""Remote keys: a JWKS fetched with httpx and kept fresh on Hasura's schedule (spec 4).

`RemoteKeySet` follows panva/jose's remote key set: freshness comes from the response's expiry
headers (4.2), unknown-``kid`` refetches are limited by a cooldown, one fetch at most is in
flight whoever triggered it, and a failed fetch never replaces the last good keys. The schedule
is driven either by `RemoteKeySet.run` (owned by the lifespan, 4.4) or, without lifespan, by the
requests themselves.

``clock`` and ``sleep`` drive the schedule only; per-attempt timeouts use anyio's own clock.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import zlib
from collections.abc import Awaitable, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc
import anyio.lowlevel
import httpx

from .._config import JWTConfig
from .._errors import ConfigError, InvalidJWT, JWKSStartupError
from .._keys import KeySource, StaticKeys, VerificationKey, key_from_jwk
from .._options import DEFAULT_JWKS_OPTIONS, MAX_JWKS_BYTES, JWKSOptions, count
from .._strict import StrictDecodeError, loads
from .expiry import ExpiryParseError, expiry_from_headers

logger = logging.getLogger("asgi_hasura_jwt.jwks")

STARTUP_ATTEMPTS = 5
STARTUP_FIRST_BACKOFF = 0.2  # seconds, doubled after each failed attempt
STARTUP_DEADLINE = 30.0  # seconds for the whole startup, backoff included
# Key import and JSON parsing run on the event loop; hand it back after this much work (seconds).
# A task waiting on a timer or a socket may resume only after two slices (asyncio wakes it one
# loop iteration late), so a slice stays well under half of the 5 ms stall budget (spec 8).
IMPORT_SLICE = 0.0005

_REQUEST_HEADERS = {
    "Accept": "application/json, application/jwk-set+json",
    # Servers behind a CDN may compress all the same; `_Inflater` bounds what that costs.
    "Accept-Encoding": "identity",
}
# zlib's window bits per accepted Content-Encoding (RFC 9110 8.4.1): gzip, or deflate = zlib.
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
# Decoded bytes per inflate step: a fraction of IMPORT_SLICE's work, however well it compresses.
INFLATE_PIECE = 64 * 1024
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# Finds where a JSON value ends; the strict parse of that slice is `_strict.loads`.
_RAW_DECODER = json.JSONDecoder()
_MASK = "***"


class _FetchFailed(Exception):
    """A fetch that did not produce a usable key set; the message is safe to log."""


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


@dataclass(frozen=True)
class _Loaded:
    keys: tuple[VerificationKey, ...]
    fingerprint: tuple[str, ...]  # canonical JSON of the usable entries, to detect changes
    skipped: int


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
            http_client if http_client is not None else self._new_client()
        )
        self._max_bytes = count("max_bytes", max_bytes, positive=True)
        self._clock = clock
        self._wall_clock = wall_clock
        self._sleep = sleep

        self._keys: tuple[VerificationKey, ...] = ()
        self._by_kid: dict[str, tuple[VerificationKey, ...]] = {}
        self._fingerprint: tuple[str, ...] = ()
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
        if not self._keys:
            # With a refresher running, requests only join its fetch; it owns the retries.
            outcome = await self._refresh(start=not self._background and self._may_start(now))
        elif not self._background and self._is_due(now) and self._may_start(now):
            outcome = await self._refresh(start=True)
        # A fetch this request just ran or waited for has answered the unknown kid already.
        if kid is not None and kid not in self._by_kid and outcome is None:
            now = self._clock()
            start = self._may_start(now) and (
                self._last_kid_refetch is None or now - self._last_kid_refetch >= self._kid_cooldown
            )
            if start and self._in_flight is None:
                self._last_kid_refetch = now
                logger.debug("unknown kid: refetching the JWKS from %s", self.url)
            await self._refresh(start=start)
        if not self._keys:
            raise InvalidJWT("JWSError NoUsableKeys")
        if kid is not None:
            chosen = self._by_kid.get(kid)
            if chosen is not None:
                return chosen
        return self._keys

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
                body, headers = await self._download()
            # An unchanged document (the common case when polling) needs no parsing at all.
            loaded = None if body == self._body else await self._load(body)
        except _FetchFailed as exc:
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

    @staticmethod
    def _new_client() -> httpx.AsyncClient:
        # No pooled connections: fetches are seconds to minutes apart, and a kept-alive
        # connection would outlive the event loop or lifespan that opened it.
        return httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))

    async def _download(self) -> tuple[bytes, list[tuple[str, str]]]:
        if self._client is None:  # closed by `aclose`, then run again by a new lifespan
            self._client = self._new_client()
        async with self._client.stream(
            "GET",
            self._url,
            headers=_REQUEST_HEADERS,
            follow_redirects=False,
            timeout=self._fetch_timeout,
        ) as response:
            status = response.status_code
            if 300 <= status < 400:
                raise _FetchFailed(f"HTTP {status}: redirects are not followed")
            if not 200 <= status < 300:
                raise _FetchFailed(f"HTTP {status}")
            if response.is_stream_consumed:
                # Built in memory (MockTransport, respx): httpx decoded it already, nothing to bound
                # but its size.
                inflater, chunks = None, response.aiter_bytes()
            else:
                # Raw bytes: httpx would inflate each network chunk whole, before any limit.
                inflater, chunks = (
                    _inflater(response.headers, self._max_bytes),
                    response.aiter_raw(),
                )
            parts: list[bytes] = []
            received = 0
            async for chunk in chunks:
                received += len(chunk)
                if received > self._max_bytes:
                    raise _FetchFailed(f"response body over {self._max_bytes} bytes")
                if inflater is None:
                    parts.append(chunk)
                    continue
                for piece in inflater.pieces(chunk):
                    parts.append(piece)
                    await anyio.lowlevel.checkpoint()
            if inflater is not None:
                inflater.finish()
            return b"".join(parts), response.headers.multi_items()

    async def _load(self, body: bytes) -> _Loaded:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _FetchFailed("invalid JSON: not UTF-8") from exc
        keys: list[VerificationKey] = []
        fingerprint: list[str] = []
        skipped = 0
        slice_start = time.perf_counter()
        try:
            for index, entry in enumerate(_entries(text)):
                result = key_from_jwk(entry)
                if isinstance(result, str):
                    skipped += 1
                    kid = entry.get("kid") if isinstance(entry, dict) else None
                    # The reason and kid only: never key material.
                    logger.debug(
                        "skipping key %d (kid %.40r) of the JWKS from %s: %s",
                        index,
                        kid,
                        self.url,
                        result,
                    )
                else:
                    keys.append(result)
                    fingerprint.append(json.dumps(entry, sort_keys=True, separators=(",", ":")))
                if time.perf_counter() - slice_start > IMPORT_SLICE:
                    await anyio.lowlevel.checkpoint()
                    slice_start = time.perf_counter()
        except StrictDecodeError as exc:
            raise _FetchFailed(f"invalid JSON: {exc}") from exc
        if not keys:
            raise _FetchFailed(f"no usable key in the JWKS ({skipped} skipped)")
        return _Loaded(tuple(keys), tuple(fingerprint), skipped)

    def _succeed(self, loaded: _Loaded | None, body: bytes, headers: list[tuple[str, str]]) -> None:
        now, wall = self._clock(), self._wall_clock()
        self._body = body
        if loaded is not None and loaded.fingerprint != self._fingerprint:
            by_kid: dict[str, list[VerificationKey]] = {}
            for key in loaded.keys:
                if key.kid is not None:
                    by_kid.setdefault(key.kid, []).append(key)
            self._keys = loaded.keys
            self._by_kid = {kid: tuple(keys) for kid, keys in by_kid.items()}
            self._fingerprint = loaded.fingerprint
            self._version += 1
            logger.info(
                "JWKS from %s updated: %d usable keys, %d skipped, kids %s",
                self.url,
                len(loaded.keys),
                loaded.skipped,
                sorted(self._by_kid),
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
            f"keeping {len(self._keys)} keys" if self._keys else "no keys yet",
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
            ready=bool(self._keys),
            key_ids=tuple(self._by_kid),
            key_count=len(self._keys),
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


def _skip_ws(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _value_end(text: str, pos: int) -> int:
    try:
        return _RAW_DECODER.raw_decode(text, pos)[1]
    except (ValueError, RecursionError) as exc:
        raise StrictDecodeError("invalid JSON") from exc


def _entries(text: str) -> Iterator[Any]:
    """The strictly parsed entries of a JWKS document's ``keys`` array, one at a time.

    Only the outer object is walked here; each entry and every other member is parsed by
    `_strict.loads` on its own, so a 1 MiB document is handled in small steps. Raises
    `StrictDecodeError` for invalid JSON and `_FetchFailed` for a document of the wrong shape.
    """
    pos = _skip_ws(text, 0)
    if text[pos : pos + 1] != "{":
        raise _FetchFailed("the JWKS is not a JSON object")
    pos = _skip_ws(text, pos + 1)
    names: set[str] = set()
    closing = "}" if text[pos : pos + 1] == "}" else ","
    while closing == ",":
        if text[pos : pos + 1] != '"':
            raise StrictDecodeError("invalid JSON")
        try:
            name, pos = _RAW_DECODER.raw_decode(text, pos)
            name.encode("utf-8")  # a lone surrogate is not valid Unicode (spec 7.6)
        except (ValueError, UnicodeEncodeError) as exc:
            raise StrictDecodeError("invalid JSON") from exc
        if name in names:
            raise StrictDecodeError("duplicate member name")
        names.add(name)
        pos = _skip_ws(text, pos)
        if text[pos : pos + 1] != ":":
            raise StrictDecodeError("invalid JSON")
        pos = _skip_ws(text, pos + 1)
        if name == "keys" and text[pos : pos + 1] == "[":
            pos = yield from _array_entries(text, pos)
        else:
            end = _value_end(text, pos)
            if name == "keys":
                raise _FetchFailed("the JWKS keys member is not an array")
            loads(text[pos:end])  # unused, but it must be valid JSON all the same
            pos = end
        pos = _skip_ws(text, pos)
        closing = text[pos : pos + 1]
        if closing not in (",", "}"):
            raise StrictDecodeError("invalid JSON")
        if closing == ",":
            pos = _skip_ws(text, pos + 1)
    if _skip_ws(text, pos + 1) != len(text):
        raise StrictDecodeError("invalid JSON: data after the document")
    if "keys" not in names:
        raise _FetchFailed("the JWKS has no keys member")


def _array_entries(text: str, pos: int) -> Generator[Any, None, int]:
    # ``text[pos]`` is the "[" of the keys array; returns the position after its "]".
    pos = _skip_ws(text, pos + 1)
    if text[pos : pos + 1] == "]":
        return pos + 1
    while True:
        end = _value_end(text, pos)
        yield loads(text[pos:end])
        pos = _skip_ws(text, end)
        separator = text[pos : pos + 1]
        if separator == "]":
            return pos + 1
        if separator != ",":
            raise StrictDecodeError("invalid JSON")
        pos = _skip_ws(text, pos + 1)


def _inflater(headers: httpx.Headers, limit: int) -> _Inflater | None:
    """The decoder for the response's Content-Encoding; None for identity (spec 4.3)."""
    codings = [
        coding.strip().lower()
        for coding in headers.get_list("content-encoding", split_commas=True)
        if coding.strip().lower() not in ("", "identity")
    ]
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in _WBITS:
        # br and zstd have no incremental, bounded decoder in the standard library.
        shown = ", ".join(codings)
        raise _FetchFailed(f"Content-Encoding {shown:.40} is not accepted")
    return _Inflater(codings[0], limit)


class _Inflater:
    """Inflates one gzip or deflate body piece by piece, never past ``limit`` decoded bytes.

    A few hundred kilobytes of gzip can stand for gigabytes; each step here decodes at most
    `INFLATE_PIECE` bytes, so neither memory nor the loop pays for more than the limit.
    """

    def __init__(self, coding: str, limit: int) -> None:
        self._coding = coding
        self._limit = limit
        self._decoded = 0
        self._started = False
        self._zlib = zlib.decompressobj(_WBITS[coding])

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of the next raw chunk; raises `_FetchFailed` past the limit."""
        while True:
            # One byte over the limit is enough to know the body is too large.
            budget = min(INFLATE_PIECE, self._limit - self._decoded + 1)
            piece = self._decompress(data, budget)
            data = self._zlib.unconsumed_tail
            self._decoded += len(piece)
            if self._decoded > self._limit:
                raise _FetchFailed(
                    f"{self._coding} response body inflates past {self._limit} bytes"
                )
            yield piece
            # A full piece may leave output pending inside zlib even when the input is used up.
            if not data and len(piece) < budget:
                return

    def _decompress(self, data: bytes, budget: int) -> bytes:
        first, self._started = not self._started, True
        try:
            return self._zlib.decompress(data, budget)
        except zlib.error as exc:
            if first and self._coding == "deflate":
                # Some servers send raw deflate without the zlib wrapper (httpx accepts it too).
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._decompress(data, budget)
            raise _FetchFailed(f"invalid {self._coding} response body: {exc}") from exc

    def finish(self) -> None:
        """Raises `_FetchFailed` unless the compressed stream ended exactly with the body."""
        if not self._zlib.eof:
            raise _FetchFailed(f"truncated {self._coding} response body")
        if self._zlib.unused_data:
            raise _FetchFailed(f"data after the end of the {self._coding} response body")


class KeySources:
    """The key source of each config: its static key, or the one `RemoteKeySet` of its URL.

    Configs that share a ``jwk_url`` share its key set, and so its fetches and schedule.
    """

    def __init__(
        self, options: JWKSOptions, *, http_client: httpx.AsyncClient | None = None
    ) -> None:
        self._options = options
        self._http_client = http_client
        self.remote: dict[str, RemoteKeySet] = {}

    def __call__(self, config: JWTConfig) -> KeySource:
        if config.key is not None:
            return StaticKeys(config.key)
        assert config.jwk_url is not None  # parse_config: exactly one of key / jwk_url
        key_set = self.remote.get(config.jwk_url)
        if key_set is None:
            key_set = self.remote[config.jwk_url] = RemoteKeySet(
                config.jwk_url, self._options, http_client=self._http_client
            )
        return key_set
