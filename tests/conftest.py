"""Shared test material: the suite's keys and default claims over `asgi_hasura_jwt.testing`,
and an in-process ASGI client."""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

from asgi_hasura_jwt import testing
from asgi_hasura_jwt.testing import NAMESPACE, SigningKey, b64url

__all__ = ["HMAC_SECRET", "NAMESPACE", "SigningKey", "b64url", "hasura_claims", "mint", "payload"]

HMAC_SECRET = "a-very-long-hmac-secret-of-at-least-64-bytes-for-hs512-signing!!"
KEY_TYPES = ("RS256", "ES256", "ES384", "ES512", "Ed25519")


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio; a module that also proves trio overrides this fixture."""
    return "asyncio"


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> None:
    # One async plugin, anyio's: every coroutine test is an anyio test (no mark to forget). Marked
    # before anyio's own hook looks for the mark, so that it adds its backend parameter.
    if collector.istestfunction(obj, name) and inspect.iscoroutinefunction(obj):
        pytest.mark.anyio(obj)


@cache
def _build_keys() -> dict[str, SigningKey]:
    """One key per family for the whole run (RSA generation is slow), by config type."""
    generated = {name: SigningKey.generate(name) for name in KEY_TYPES}
    return {"HS256": SigningKey.hmac(HMAC_SECRET), **generated}


@pytest.fixture(scope="session")
def keys() -> dict[str, SigningKey]:
    return _build_keys()


def hasura_claims(
    user_id: str = "user-1", roles: list[str] | None = None, default: str = "user", **extra: Any
) -> dict[str, Any]:
    """The suite's default session: a user allowed "user" and "editor"."""
    return testing.hasura_claims(
        user_id, roles if roles is not None else ["user", "editor"], default, **extra
    )


def payload(**overrides: Any) -> dict[str, Any]:
    """The suite's default claims; an override of ``None`` drops that claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "iat": now - 5,
        "exp": now + 60,
        NAMESPACE: hasura_claims(),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def mint(key: SigningKey, claims: dict[str, Any] | bytes | None = None, **options: Any) -> str:
    """`asgi_hasura_jwt.testing.mint`, of `payload` unless given claims."""
    return testing.mint(key, payload() if claims is None else claims, **options)


@dataclass
class Result:
    status: int
    headers: dict[str, str]
    body: bytes
    scope: dict[str, Any] | None

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def session(self) -> Any:
        return None if self.scope is None else self.scope.get("hasura_session")

    def error(self) -> tuple[int, str, str]:
        """(status, code, message) of a Hasura error body."""
        body = self.json
        assert list(body) == ["errors"]
        (item,) = body["errors"]
        assert list(item) == ["message", "extensions"]
        assert item["extensions"]["path"] == "$"
        return self.status, item["extensions"]["code"], item["message"]


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The inner app: 200 with the session as JSON (the tests read the scope too)."""
    session = scope.get("hasura_session")
    body = json.dumps(dict(session) if session is not None else None).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def call(
    app: Callable[..., Any],
    headers: list[tuple[str, str]] | dict[str, str] | None = None,
    *,
    path: str = "/graphql",
    raw_headers: list[tuple[bytes, bytes]] | None = None,
) -> Result:
    """One in-process HTTP request through ``app`` (no network)."""
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    encoded = (
        raw_headers
        if raw_headers is not None
        else [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in items]
    )
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": encoded,
        "client": ("127.0.0.1", 1),
        "server": None,
    }
    seen: dict[str, Any] = {}
    messages: list[dict[str, Any]] = []

    async def inner(inner_scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.update(inner_scope)
        await echo_app(inner_scope, receive, send)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    target = app(inner) if getattr(app, "_is_middleware_factory", False) else app
    await target(scope, receive, send)
    start = messages[0]
    assert start["type"] == "http.response.start"
    body = b"".join(m.get("body", b"") for m in messages[1:])
    response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return Result(start["status"], response_headers, body, seen or None)


def middleware(**options: Any) -> Callable[..., Any]:
    """A factory that wraps the recording inner app of `call`; options go to the middleware."""
    from asgi_hasura_jwt import HasuraJWTMiddleware

    options.setdefault("environ", {})

    def factory(inner: Any) -> Any:
        return HasuraJWTMiddleware(inner, **options)

    factory._is_middleware_factory = True  # type: ignore[attr-defined]
    return factory
