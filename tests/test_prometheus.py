"""`asgi_hasura_jwt.prometheus`: every metric asserted by value after a scripted mix of outcomes
under uvicorn (HTTP, a websocket closed at expiry, a JWKS from a loopback server that then
fails), and the sink's own rules (zero series, closed labels, one sink per registry)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from typing import Any

import anyio
import httpx
import pytest
from prometheus_client import CollectorRegistry

from asgi_hasura_jwt import AuthEvent, HasuraJWTMiddleware, JWKSFetchEvent, WebSocketEvent
from asgi_hasura_jwt._events import HTTP_CACHE_HIT
from asgi_hasura_jwt.prometheus import CLOSE_REASONS, CODES, PrometheusMetrics
from asgi_hasura_jwt.testing import SigningKey, hasura_claims, mint

from .jwks_helpers import Endpoint
from .servers import loopback_server
from .test_websocket_server import EXPIRED, TRANSPORT, GraphQLApp, client, closed, init

ADMIN = "an-admin-secret"
OUTCOMES = ("allowed", "denied", "anonymous", "admin", "public")


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def requests(registry: CollectorRegistry) -> dict[tuple[str, str, str], float]:
    """Every ``hasura_jwt_requests_total`` sample that is not zero."""
    found = {}
    for metric in registry.collect():
        for s in metric.samples:
            if s.name == "hasura_jwt_requests_total" and s.value:
                found[s.labels["outcome"], s.labels["code"], s.labels["transport"]] = s.value
    return found


def claims(lifetime: float, **extra: Any) -> dict[str, Any]:
    now = time.time()
    return {
        "sub": "user-1",
        "iat": int(now) - 5,
        "exp": now + lifetime,
        "https://hasura.io/jwt/claims": hasura_claims("user-1", ["user"]),
        **extra,
    }


class App:
    """HTTP: 200; websockets: `GraphQLApp`; lifespan: not spoken (the middleware completes it)."""

    def __init__(self) -> None:
        self.websocket = GraphQLApp()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await self.websocket(scope, receive, send)
        elif scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"{}"})


@pytest.mark.network
async def test_every_metric_after_a_scripted_mix() -> None:
    key = SigningKey.generate("RS256", kid="k0")
    endpoint = Endpoint([key.jwk()])
    registry = CollectorRegistry()
    app = App()
    async with loopback_server(endpoint.asgi) as (jwks_base, _):
        url = f"{jwks_base}/jwks"
        middleware = HasuraJWTMiddleware(
            app,
            jwt_secret={"jwk_url": url},
            admin_secret=ADMIN,
            unauthorized_role="anonymous",
            public_paths=["/healthz"],
            jwks_min_refresh_interval=0.2,
            environ={},
            on_event=PrometheusMetrics(registry=registry),
        )
        async with (
            loopback_server(middleware, lifespan="on") as (base, _),
            httpx.AsyncClient(base_url=base) as http,
        ):
            token = mint(key, claims(300))
            bearer = {"Authorization": f"Bearer {token}"}
            expired = {"Authorization": f"Bearer {mint(key, claims(-600))}"}
            statuses = []
            for path, headers in [
                ("/graphql", bearer),  # verified
                ("/graphql", bearer),  # a cache hit
                ("/graphql", {**bearer, "X-Hasura-Role": "admin"}),  # cached, role refused
                ("/graphql", expired),
                ("/graphql", {}),  # anonymous
                ("/graphql", {"X-Hasura-Admin-Secret": ADMIN}),
                ("/healthz", {}),
            ]:
                statuses.append((await http.get(path, headers=headers)).status_code)
            assert statuses == [200, 200, 400, 400, 200, 200, 200]

            ws_url = base.replace("http://", "ws://") + "/graphql"
            async with client(ws_url, TRANSPORT) as ws:
                await ws.send(init(mint(key, claims(1.0))))
                await ws.recv()  # connection_ack
                assert sample(registry, "hasura_jwt_websockets_open") == 1
                assert (await closed(ws))[:2] == (4403, EXPIRED)
            await asyncio.wait_for(app.websocket.finished.wait(), 5)

            # The JWKS endpoint fails; a token with an unknown kid makes the key set refetch
            # (once the 0.2 s floor has passed), which fails and keeps the known key.
            endpoint.status = 500
            await anyio.sleep(0.25)
            rotated = mint(key, claims(300), header={"kid": "k1"})
            response = await http.get("/graphql", headers={"Authorization": f"Bearer {rotated}"})
            assert response.status_code == 200  # no kid match: every key is tried, k0 verifies
            (status,) = middleware.jwks_status()
    assert endpoint.calls == 2
    assert status.last_error == "HTTP 500"

    assert requests(registry) == {
        ("allowed", "", "http"): 3,
        ("denied", "access-denied", "http"): 1,
        ("denied", "invalid-jwt", "http"): 1,
        ("anonymous", "", "http"): 1,
        ("admin", "", "http"): 1,
        ("public", "", "http"): 1,
        ("allowed", "", "websocket"): 1,
    }
    # Verified, the expired token, the websocket's token, the rotated token; hits: the second
    # request and the refused role.
    assert sample(registry, "hasura_jwt_token_cache_hits_total") == 2
    assert sample(registry, "hasura_jwt_token_cache_misses_total") == 4
    assert sample(registry, "hasura_jwt_verify_duration_seconds_count") == 4
    verify_sum = sample(registry, "hasura_jwt_verify_duration_seconds_sum")
    assert verify_sum is not None
    assert 0 < verify_sum < 5
    assert sample(registry, "hasura_jwt_jwks_fetches_total", url=url, result="success") == 1
    assert sample(registry, "hasura_jwt_jwks_fetches_total", url=url, result="failure") == 1
    assert sample(registry, "hasura_jwt_jwks_fetch_duration_seconds_count", url=url) == 2
    assert sample(registry, "hasura_jwt_jwks_keys", url=url) == 1
    last_success = sample(registry, "hasura_jwt_jwks_last_success_timestamp_seconds", url=url)
    assert last_success == status.last_success
    assert sample(registry, "hasura_jwt_websockets_open") == 0
    closes = {
        reason: sample(registry, "hasura_jwt_websocket_closes_total", reason=reason)
        for reason in CLOSE_REASONS
    }
    assert closes == {"expired": 1, "revoked": 0, "init_failed": 0, "unauthorized": 0, "client": 0}
    # Closed lists only: no token, user, kid or path in any label.
    allowed = {*OUTCOMES, *CODES, *CLOSE_REASONS, "", "http", "websocket", "success", "failure"}
    for metric in registry.collect():
        for s in metric.samples:
            for name, value in s.labels.items():
                assert value in allowed or (name, value) == ("url", url) or name == "le"


def test_every_series_exists_at_zero_and_events_add_up() -> None:
    registry = CollectorRegistry()
    sink = PrometheusMetrics(registry=registry)
    series = [(outcome, "") for outcome in ("allowed", "anonymous", "admin", "public")]
    series += [("denied", code) for code in CODES]
    for outcome, code in series:
        for transport in ("http", "websocket"):
            labels = {"outcome": outcome, "code": code, "transport": transport}
            assert sample(registry, "hasura_jwt_requests_total", **labels) == 0
    for reason in CLOSE_REASONS:
        assert sample(registry, "hasura_jwt_websocket_closes_total", reason=reason) == 0
    assert sample(registry, "hasura_jwt_token_cache_hits_total") == 0

    sink(AuthEvent("websocket", "denied", "jwt-invalid-claims", 400, "miss", 0.25, "bad"))
    sink(AuthEvent("http", "denied", "some-future-code", 400))  # not in the list: still counted
    sink(WebSocketEvent("open"))
    sink(WebSocketEvent("open"))
    sink(WebSocketEvent("close", "unauthorized"))
    sink(WebSocketEvent("close", "init_failed", accepted=False))  # a refused handshake
    sink(JWKSFetchEvent("https://issuer.example/jwks", False, 0.5, 0, "HTTP 500", 1.0e9))
    labels = {"outcome": "denied", "transport": "websocket", "code": "jwt-invalid-claims"}
    assert sample(registry, "hasura_jwt_requests_total", **labels) == 1
    assert requests(registry)["denied", "some-future-code", "http"] == 1
    assert sample(registry, "hasura_jwt_token_cache_misses_total") == 1
    assert sample(registry, "hasura_jwt_verify_duration_seconds_sum") == 0.25
    assert sample(registry, "hasura_jwt_verify_duration_seconds_bucket", le="0.5") == 1
    assert sample(registry, "hasura_jwt_verify_duration_seconds_bucket", le="0.1") == 0
    assert sample(registry, "hasura_jwt_websockets_open") == 1
    assert sample(registry, "hasura_jwt_websocket_closes_total", reason="init_failed") == 1
    url = {"url": "https://issuer.example/jwks"}
    assert sample(registry, "hasura_jwt_jwks_fetches_total", result="failure", **url) == 1
    assert sample(registry, "hasura_jwt_jwks_fetches_total", result="success", **url) == 0
    assert sample(registry, "hasura_jwt_jwks_keys", **url) == 0
    # A failure never sets the last-success time.
    assert sample(registry, "hasura_jwt_jwks_last_success_timestamp_seconds", **url) == 0


def test_counts_from_many_threads_add_up() -> None:
    # Each thread keeps its own tally: none of the increments is lost, and a thread that has
    # ended still counts.
    registry = CollectorRegistry()
    sink = PrometheusMetrics(registry=registry)
    denied = AuthEvent("http", "denied", "invalid-jwt", 400, "miss", None, "x")

    def work() -> None:
        for _ in range(2000):
            sink(HTTP_CACHE_HIT)
            sink(denied)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert requests(registry) == {
        ("allowed", "", "http"): 8000,
        ("denied", "invalid-jwt", "http"): 8000,
    }
    assert sample(registry, "hasura_jwt_token_cache_hits_total") == 8000
    assert sample(registry, "hasura_jwt_token_cache_misses_total") == 8000


def test_one_sink_per_registry() -> None:
    registry = CollectorRegistry()
    PrometheusMetrics(registry=registry)
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        PrometheusMetrics(registry=registry)


def test_the_default_is_the_global_registry() -> None:
    script = """
import json
from prometheus_client import REGISTRY
from asgi_hasura_jwt import AuthEvent
from asgi_hasura_jwt._events import HTTP_CACHE_HIT
from asgi_hasura_jwt.prometheus import PrometheusMetrics
sink = PrometheusMetrics()
sink(AuthEvent("http", "public"))
labels = {"outcome": "public", "code": "", "transport": "http"}
print(json.dumps(REGISTRY.get_sample_value("hasura_jwt_requests_total", labels)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == 1
