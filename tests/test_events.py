"""The ``on_event`` stream (docs/behaviour.md, Observability): the event of every HTTP outcome,
JWKS fetch events, the hooks' exceptions contained, the option validated, refusals at DEBUG."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from typing import Any

import pytest

from asgi_hasura_jwt import (
    AuthEvent,
    ConfigError,
    Event,
    HasuraJWTMiddleware,
    JWKSFetchEvent,
    Settings,
)
from asgi_hasura_jwt._events import Events

from .conftest import HMAC_SECRET, SigningKey, call, echo_app, middleware, mint, payload
from .jwks_helpers import WALL_START, Endpoint, FakeTime, remote_key_set

HS = {"type": "HS256", "key": HMAC_SECRET}
ADMIN = "an-admin-secret"
MISSING = "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"
NOT_ALLOWED = "Your requested role is not in allowed roles"


def app_with(events: list[Event], **options: Any) -> HasuraJWTMiddleware:
    options.setdefault("jwt_secret", HS)
    return HasuraJWTMiddleware(echo_app, environ={}, on_event=events.append, **options)


def bearer(token: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **headers}


async def test_each_http_outcome_emits_one_event(keys: dict[str, SigningKey]) -> None:
    events: list[Event] = []
    app = app_with(events, admin_secret=ADMIN, public_paths=["/healthz"])
    token = mint(keys["HS256"])
    expired = mint(keys["HS256"], payload(exp=int(time.time()) - 600))
    upper = [(b"Authorization", f"Bearer {token}".encode())]  # not the fast path's shape
    requests: list[tuple[dict[str, str] | None, list[tuple[bytes, bytes]] | None, str]] = [
        (bearer(token), None, "/graphql"),  # verified
        (bearer(token), None, "/graphql"),  # the fast path's cache hit
        (None, upper, "/graphql"),  # a cache hit of the full path
        (bearer(token, **{"X-Hasura-Role": "admin"}), None, "/graphql"),  # cached, then refused
        (bearer(expired), None, "/graphql"),
        ({}, None, "/graphql"),
        ({"X-Hasura-Admin-Secret": "wrong"}, None, "/graphql"),
        ({"X-Hasura-Admin-Secret": ADMIN}, None, "/graphql"),
        ({}, None, "/healthz"),
    ]
    statuses = []
    for headers, raw, path in requests:
        statuses.append((await call(app, headers, raw_headers=raw, path=path)).status)
    assert statuses == [200, 200, 200, 400, 400, 400, 401, 200, 200]
    verified, refused_expired = events[0], events[4]
    assert isinstance(verified, AuthEvent)
    assert isinstance(refused_expired, AuthEvent)
    assert verified.verify_seconds is not None
    assert verified.verify_seconds > 0
    assert refused_expired.verify_seconds is not None
    assert events == [
        AuthEvent("http", "allowed", cache="miss", verify_seconds=verified.verify_seconds),
        AuthEvent("http", "allowed", cache="hit"),
        AuthEvent("http", "allowed", cache="hit"),
        AuthEvent("http", "denied", "access-denied", 400, "hit", None, NOT_ALLOWED),
        AuthEvent(
            "http",
            "denied",
            "invalid-jwt",
            400,
            "miss",
            refused_expired.verify_seconds,
            "Could not verify JWT: JWTExpired",
        ),
        AuthEvent("http", "denied", "invalid-headers", 400, None, None, MISSING),
        AuthEvent(
            "http",
            "denied",
            "access-denied",
            401,
            message="invalid x-hasura-admin-secret/x-hasura-access-key",
        ),
        AuthEvent("http", "admin"),
        AuthEvent("http", "public"),
    ]


async def test_the_unauthorized_role_is_anonymous() -> None:
    events: list[Event] = []
    app = middleware(jwt_secret=HS, unauthorized_role="guest", on_event=events.append)
    result = await call(app, {})
    assert result.session is not None
    assert result.session.source == "unauthorized"
    assert events == [AuthEvent("http", "anonymous")]


async def test_sessions_say_where_they_came_from(keys: dict[str, SigningKey]) -> None:
    app = middleware(jwt_secret=HS, admin_secret=ADMIN)
    by_token = await call(app, bearer(mint(keys["HS256"])))
    by_secret = await call(app, {"X-Hasura-Admin-Secret": ADMIN})
    assert by_token.session.source == "token"
    assert by_secret.session.source == "admin"


async def test_a_failing_hook_is_logged_once_and_never_reaches_the_request(
    keys: dict[str, SigningKey], caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("bug in a hook")

    app = HasuraJWTMiddleware(
        echo_app, jwt_secret=HS, environ={}, on_event=[broken, seen.append, broken]
    )
    token = mint(keys["HS256"])
    with caplog.at_level(logging.DEBUG, logger="asgi_hasura_jwt.events"):
        results = [await call(app, bearer(token)) for _ in range(3)]
        refused = await call(app, {})
    assert [result.status for result in results] == [200, 200, 200]
    assert refused.error() == (400, "invalid-headers", MISSING)
    assert len(seen) == 4  # the next hook still gets every event
    records = [r for r in caplog.records if r.name == "asgi_hasura_jwt.events"]
    # `broken` is listed twice but is one hook: one ERROR, then DEBUG for the other 7 failures.
    assert [r.levelname for r in records] == ["ERROR"] + ["DEBUG"] * 7
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is RuntimeError
    assert records[0].getMessage().startswith("on_event hook <function ")
    assert "later failures of this hook are logged at DEBUG" in records[0].getMessage()
    assert token not in caplog.text


async def test_hooks_run_in_order_and_a_second_hook_is_reported_on_its_own(
    caplog: pytest.LogCaptureFixture,
) -> None:
    order: list[str] = []

    def first(event: Event) -> None:
        order.append("first")
        raise ValueError("first")

    def second(event: Event) -> None:
        order.append("second")
        raise KeyError("second")

    events = Events([first, second])
    with caplog.at_level(logging.DEBUG, logger="asgi_hasura_jwt.events"):
        events.emit(AuthEvent("http", "public"))
        events.emit(AuthEvent("http", "public"))
    assert order == ["first", "second", "first", "second"]
    assert [r.levelname for r in caplog.records] == ["ERROR", "ERROR", "DEBUG", "DEBUG"]


def test_a_hook_may_not_swallow_cancellation() -> None:
    def interrupting(event: Event) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Events([interrupting]).emit(AuthEvent("http", "public"))


async def test_refusals_are_logged_at_debug_without_the_token(
    keys: dict[str, SigningKey], caplog: pytest.LogCaptureFixture
) -> None:
    expired = mint(keys["HS256"], payload(exp=int(time.time()) - 600))
    app = HasuraJWTMiddleware(echo_app, jwt_secret=HS, environ={})  # no hook: logged anyway
    with caplog.at_level(logging.DEBUG, logger="asgi_hasura_jwt.auth"):
        await call(app, bearer(expired))
        await call(app, {"Authorization": f"Basic {expired}"})
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "asgi_hasura_jwt.auth",
            "DEBUG",
            "http request refused: invalid-jwt (HTTP 400): Could not verify JWT: JWTExpired",
        ),
        (
            "asgi_hasura_jwt.auth",
            "DEBUG",
            "http request refused: invalid-headers (HTTP 400): Malformed Authorization header",
        ),
    ]
    for part in [expired, *expired.split(".")]:
        assert part not in caplog.text


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("print", "on_event: expected a callable or a list of callables, got str"),
        (b"print", "on_event: expected a callable or a list of callables, got bytes"),
        ({print}, "on_event: expected a callable or a list of callables, got set"),
        ([print, "print"], "on_event: every entry must be callable, got str"),
        ((None,), "on_event: every entry must be callable, got NoneType"),
    ],
)
def test_on_event_is_validated(value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings(jwt_secret=HS, environ={}, on_event=value)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("value", "hooks"),
    [(None, ()), (print, (print,)), ([print, repr], (print, repr)), ((), ())],
)
def test_on_event_accepts_a_callable_or_a_list(value: Any, hooks: tuple[Any, ...]) -> None:
    assert Settings(jwt_secret=HS, environ={}, on_event=value).on_event == hooks
    assert (Events.of(hooks) is None) == (not hooks)  # no hooks: no dispatcher, no events


async def test_jwks_fetches_emit_their_outcome() -> None:
    events: list[Event] = []
    endpoint = Endpoint(headers={"Cache-Control": "max-age=60"})
    fake = FakeTime()
    keys = remote_key_set(
        "https://user:hunter2@issuer.example/jwks",
        http_client=endpoint.client(),
        clock=fake.clock,
        wall_clock=fake.wall,
        sleep=fake.sleep,
        events=Events([events.append]),
    )
    await keys.keys_for("k0")
    fake.now = 120.0  # past max-age: the next lookup refetches
    endpoint.status = 500
    await keys.keys_for("k0")
    masked = "https://user:***@issuer.example/jwks"
    assert keys.url == masked
    assert [type(event) for event in events] == [JWKSFetchEvent, JWKSFetchEvent]
    ok, failed = events
    assert isinstance(ok, JWKSFetchEvent)
    assert isinstance(failed, JWKSFetchEvent)
    assert ok == JWKSFetchEvent(masked, True, ok.duration, 1, None, WALL_START)
    assert failed == JWKSFetchEvent(masked, False, failed.duration, 1, "HTTP 500", WALL_START + 120)
    assert ok.at == keys.status().last_success
    assert 0 < ok.duration < 5
    assert 0 < failed.duration < 5
    assert "hunter2" not in repr(events)


def test_the_core_imports_without_the_optional_libraries() -> None:
    # Blocked as a missing package is: `import prometheus_client` raises ImportError.
    script = """
import sys
for name in ("prometheus_client", "opentelemetry", "opentelemetry.trace"):
    sys.modules[name] = None
import asgi_hasura_jwt
from asgi_hasura_jwt import HasuraJWTMiddleware
HasuraJWTMiddleware(lambda *a: None, jwt_secret={"type": "HS256", "key": "k" * 32}, environ={},
                    on_event=print)
for name in ("asgi_hasura_jwt.prometheus", "asgi_hasura_jwt.otel"):
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(name + " imported without its library")
loaded = sorted(m for m in sys.modules if m.startswith(("prometheus_client", "opentelemetry"))
                and sys.modules[m] is not None)
print(loaded)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
