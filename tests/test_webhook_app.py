"""The webhook's surroundings: /readyz as remote keys arrive, each app's own /metrics registry,
create_app's option checks, and the package working without the optional extras."""

from __future__ import annotations

import subprocess
import sys

import anyio
import httpx
import prometheus_client
import pytest

from asgi_hasura_jwt import ConfigError
from asgi_hasura_jwt.webhook import create_app

from .jwks_helpers import Endpoint
from .servers import serve
from .webhook_helpers import CONFIG, bearer, token, webhook


@pytest.mark.network
async def test_readyz_is_503_until_the_keys_arrive() -> None:
    endpoint = Endpoint()
    endpoint.status = 503
    async with serve(endpoint.asgi) as jwks:
        options = {
            "jwt_secret": {"jwk_url": f"{jwks}/jwks"},
            "jwks_required_at_startup": False,
            "jwks_min_refresh_interval": 0.05,
            "jwks_retry_interval": 0.05,
        }
        async with webhook(**options) as client:
            before = await client.get("/readyz")
            endpoint.status = 200
            after = await client.get("/readyz")
            with anyio.fail_after(10):
                while after.status_code != 200:  # the refresher retries every 0.05 s
                    await anyio.sleep(0.05)
                    after = await client.get("/readyz")
    assert before.status_code == 503
    (status,) = before.json()
    assert (status["url"], status["ready"], status["last_error"]) == (
        f"{jwks}/jwks",
        False,
        "HTTP 503",
    )
    (status,) = after.json()
    assert (status["ready"], status["key_ids"], status["refresher_running"]) == (True, ["k0"], True)


@pytest.mark.network
async def test_metrics_come_from_each_apps_own_registry() -> None:
    first, second = (
        create_app(jwt_secret=CONFIG, environ={}),
        create_app(jwt_secret=CONFIG, environ={}),
    )
    assert first.metrics is not None
    assert second.metrics is not None
    assert first.metrics.registry is not second.metrics.registry
    prometheus_client.Counter(
        "only_in_first", "a test metric", registry=first.metrics.registry
    ).inc()
    async with (
        serve(first) as one,
        serve(second) as two,
        httpx.AsyncClient(trust_env=False) as client,
    ):
        a, b = await client.get(f"{one}/metrics"), await client.get(f"{two}/metrics")
    assert a.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "only_in_first_total 1.0" in a.text
    assert "only_in_first" not in b.text
    registry = prometheus_client.CollectorRegistry()
    assert create_app(jwt_secret=CONFIG, environ={}, registry=registry).metrics.registry is registry  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"public_paths": ["/x"]},
            "public_paths: a middleware option, which the webhook does not take",
        ),
        (
            {"errors_as_200": True},
            "errors_as_200: a middleware option, which the webhook does not take",
        ),
        ({"on_error": print}, "on_error: a middleware option, which the webhook does not take"),
        (
            {"allowed_origins": ["https://a.example"]},
            "allowed_origins: a middleware option, which the webhook does not take",
        ),
        (
            {"fallback_webhook": "ftp://x"},
            "fallback_webhook must be an http:// or https:// URL with a host",
        ),
        ({"fallback_webhook": 1}, "fallback_webhook: expected a string or None, got int"),
        (
            {"fallback_webhook": "http://x", "fallback_timeout": 0},
            "fallback_timeout: must be greater than 0",
        ),
        (
            {"registry": object()},
            "registry: expected a prometheus_client.CollectorRegistry, got object",
        ),
        (
            {"authorized_parties": "https://a"},
            "authorized_parties: expected a list of strings, got str",
        ),
    ],
)
def test_create_app_checks_its_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        create_app(jwt_secret=CONFIG, environ={}, **options)
    assert str(raised.value) == message


BLOCKED = """
import sys
for name in ("prometheus_client", "uvicorn"):
    sys.modules[name] = None  # import fails as if not installed
import asgi_hasura_jwt
from asgi_hasura_jwt._cli import main
from asgi_hasura_jwt.webhook import create_app
app = create_app(jwt_secret={"type": "HS256", "key": "k" * 32}, environ={})
assert app.metrics is None
try:
    create_app(jwt_secret={"type": "HS256", "key": "k" * 32}, environ={}, registry=object())
except asgi_hasura_jwt.ConfigError as exc:
    print(exc)
config = '{"type": "HS256", "key": "%s"}' % ("k" * 32)
sys.exit(main(["serve"], {"HASURA_GRAPHQL_JWT_SECRET": config}))
"""


def test_the_package_and_the_webhook_work_without_the_extras() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCKED], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert (
        done.stdout
        == "registry: needs prometheus-client (pip install 'asgi-hasura-jwt[prometheus]')\n"
    )
    assert (
        done.stderr
        == "asgi-hasura-jwt serve: serve needs uvicorn: pip install 'asgi-hasura-jwt[serve]'\n"
    )


@pytest.mark.network
async def test_metrics_count_the_webhooks_answers() -> None:
    # The app's own PrometheusMetrics sink sees every /auth outcome, cached or not.
    registry = prometheus_client.CollectorRegistry()
    async with webhook(registry=registry) as client:
        good = bearer(token())
        assert (await client.get("/auth", headers=good)).status_code == 200
        assert (await client.get("/auth", headers=good)).status_code == 200  # a cache hit
        assert (await client.get("/auth")).status_code == 401  # no token
        text = (await client.get("/metrics")).text

    def sample(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    allowed = {"outcome": "allowed", "code": "", "transport": "http"}
    denied = {"outcome": "denied", "code": "invalid-headers", "transport": "http"}
    assert sample("hasura_jwt_requests_total", **allowed) == 2
    assert sample("hasura_jwt_requests_total", **denied) == 1
    assert sample("hasura_jwt_token_cache_hits_total") == 1
    assert sample("hasura_jwt_token_cache_misses_total") == 1
    assert sample("hasura_jwt_verify_duration_seconds_count") == 1
    assert "hasura_jwt_requests_total" in text
