"""Prometheus metrics on the ``on_event`` hook (``pip install 'asgi-hasura-jwt[prometheus]'``).

    metrics = PrometheusMetrics()  # or PrometheusMetrics(registry=CollectorRegistry())
    app = HasuraJWTMiddleware(inner_app, on_event=metrics)

The names follow Envoy's ``jwt_authn`` and Apollo Router's auth counters. Labels come from
closed lists (outcome, Hasura code, transport, fetch result, close reason) plus the JWKS URL
(its display form, password masked): never a user, token, ``kid`` or path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import get_args

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from ._errors import AccessDenied, InvalidClaims, InvalidHeaders, InvalidJWT, MissingRoleClaims
from ._events import HTTP_CACHE_HIT, AuthEvent, CloseReason, Event, JWKSFetchEvent, WebSocketEvent

# Uncached verifications take tens of microseconds; one that waits for a JWKS fetch, seconds.
VERIFY_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 1.0, 5.0,
)  # fmt: skip
CODES = tuple(
    error.code
    for error in (InvalidJWT, InvalidClaims, MissingRoleClaims, InvalidHeaders, AccessDenied)
)
CLOSE_REASONS: tuple[str, ...] = get_args(CloseReason)
_TRANSPORTS = ("http", "websocket")

# (outcome, code, transport, cache): one integer per combination that occurred.
AuthKey = tuple[str, str | None, str, str | None]
_HIT_KEY: AuthKey = ("allowed", None, "http", "hit")
# Every series of hasura_jwt_requests_total with Hasura's codes, present from the start at 0
# so that rate() sees the first event.
_REQUEST_SERIES = [
    (outcome, code, transport)
    for outcome, code in [(name, "") for name in ("allowed", "anonymous", "admin", "public")]
    + [("denied", code) for code in CODES]
    for transport in _TRANSPORTS
]


class _Tally:
    """One thread's counts; only that thread writes them, so no increment is ever lost."""

    __slots__ = ("counts", "fast_hits")

    def __init__(self) -> None:
        self.fast_hits = 0  # the fast path's constant event: most requests
        self.counts: dict[AuthKey, int] = {}


class _AuthCounts(Collector):
    """``hasura_jwt_requests_total`` and the token cache counters, from one integer per kind of
    `AuthEvent` and thread, summed into samples at scrape time.

    A `prometheus_client.Counter` child takes a lock and four calls per increment; a cache hit
    (two increments) would not stay within its 1 µs budget. Here an event is one increment in
    the calling thread's own `_Tally`: no lock on the request path, and a scrape from another
    thread only reads (each tally is copied whole, under the GIL or the dict's own lock).
    """

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()  # guards `_tallies`: one per thread that counted
        self._tallies: list[_Tally] = []

    def count(self, event: AuthEvent) -> None:
        try:
            tally: _Tally = self._local.tally
        except AttributeError:
            tally = self._new_tally()
        if event is HTTP_CACHE_HIT:
            tally.fast_hits += 1
        else:
            key = (event.outcome, event.code, event.transport, event.cache)
            counts = tally.counts
            counts[key] = counts.get(key, 0) + 1

    def _new_tally(self) -> _Tally:
        # Kept after its thread ends: counters never go down.
        tally = self._local.tally = _Tally()
        with self._lock:
            self._tallies.append(tally)
        return tally

    def describe(self) -> Iterator[CounterMetricFamily]:
        # The names, for the registry's duplicate check: two sinks on one registry are an error.
        return self._families({})

    def collect(self) -> Iterator[CounterMetricFamily]:
        with self._lock:
            tallies = list(self._tallies)
        counts: dict[AuthKey, int] = {_HIT_KEY: 0}
        for tally in tallies:
            counts[_HIT_KEY] += tally.fast_hits
            for key, value in tally.counts.copy().items():
                counts[key] = counts.get(key, 0) + value
        return self._families(counts)

    @staticmethod
    def _families(counts: dict[AuthKey, int]) -> Iterator[CounterMetricFamily]:
        requests = dict.fromkeys(_REQUEST_SERIES, 0)
        cache = {"hit": 0, "miss": 0}
        for (outcome, code, transport, looked_up), value in counts.items():
            labels = (outcome, code or "", transport)
            requests[labels] = requests.get(labels, 0) + value
            if looked_up is not None:
                cache[looked_up] += value
        family = CounterMetricFamily(
            "hasura_jwt_requests",
            "Authentications by outcome, Hasura error code (empty unless denied) and transport.",
            labels=("outcome", "code", "transport"),
        )
        for labels, value in requests.items():
            family.add_metric(labels, value)
        yield family
        yield CounterMetricFamily(
            "hasura_jwt_token_cache_hits", "Tokens found in the verified-token cache.", cache["hit"]
        )
        yield CounterMetricFamily(
            "hasura_jwt_token_cache_misses", "Tokens verified from scratch.", cache["miss"]
        )


class PrometheusMetrics:
    """An ``on_event`` hook that keeps the ``hasura_jwt_*`` metrics in ``registry`` (default:
    prometheus_client's global registry; one sink per registry, a second raises ValueError).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = REGISTRY if registry is None else registry
        self._auth = _AuthCounts()
        registry.register(self._auth)
        self._verify = Histogram(
            "hasura_jwt_verify_duration_seconds",
            "Uncached token verifications (signature, claims, any JWKS fetch waited for).",
            buckets=VERIFY_BUCKETS,
            registry=registry,
        )
        self._fetches = Counter(
            "hasura_jwt_jwks_fetches",
            "JWKS fetches by URL and result.",
            ("url", "result"),
            registry=registry,
        )
        self._fetch_duration = Histogram(
            "hasura_jwt_jwks_fetch_duration_seconds",
            "JWKS fetch durations by URL.",
            ("url",),
            registry=registry,
        )
        self._keys = Gauge(
            "hasura_jwt_jwks_keys", "Usable keys of each JWKS URL.", ("url",), registry=registry
        )
        self._last_success = Gauge(
            "hasura_jwt_jwks_last_success_timestamp_seconds",
            "When each JWKS URL was last fetched successfully (POSIX seconds).",
            ("url",),
            registry=registry,
        )
        self._open = Gauge("hasura_jwt_websockets_open", "Websockets open now.", registry=registry)
        closes = Counter(
            "hasura_jwt_websocket_closes",
            "Websocket closes by reason.",
            ("reason",),
            registry=registry,
        )
        # Label children resolved once: no .labels() call per event.
        self._closes = {reason: closes.labels(reason) for reason in CLOSE_REASONS}
        self._jwks: dict[str, tuple[Counter, Counter, Histogram, Gauge, Gauge]] = {}

    def __call__(self, event: Event) -> None:
        if type(event) is AuthEvent:  # the hot path first
            self._auth.count(event)
            if event.verify_seconds is not None:
                self._verify.observe(event.verify_seconds)
        elif isinstance(event, WebSocketEvent):
            if event.kind == "open":
                self._open.inc()
                return
            if event.accepted:
                self._open.dec()
            self._closes[event.reason or "client"].inc()
        elif isinstance(event, JWKSFetchEvent):
            self._fetched(event)

    def _fetched(self, event: JWKSFetchEvent) -> None:
        children = self._jwks.get(event.url)
        if children is None:
            url = event.url
            children = self._jwks[url] = (
                self._fetches.labels(url, "success"),
                self._fetches.labels(url, "failure"),
                self._fetch_duration.labels(url),
                self._keys.labels(url),
                self._last_success.labels(url),
            )
        success, failure, duration, keys, last_success = children
        (success if event.success else failure).inc()
        duration.observe(event.duration)
        keys.set(event.key_count)
        if event.success:
            last_success.set(event.at)
