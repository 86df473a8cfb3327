"""Spec 0 and 3: the public contract, scope handling, error responses and their options."""

from __future__ import annotations

import json
import logging
import types
from typing import Any

import pytest

import asgi_hasura_jwt
from asgi_hasura_jwt import ConfigError, HasuraJWTMiddleware, Session, clerk, get_session

from .conftest import HMAC_SECRET, SigningKey, call, echo_app, middleware, mint

HS = {"type": "HS256", "key": HMAC_SECRET}
MISSING = "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"


def test_exported_members() -> None:
    # Keep __all__ honest: everything public is exported, everything exported exists. A public
    # submodule (asgi_hasura_jwt.testing) is an attribute once imported, never an export.
    public = {
        name
        for name, value in vars(asgi_hasura_jwt).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(asgi_hasura_jwt.__all__) - {"__version__"} == public
    assert asgi_hasura_jwt.__all__ == sorted(asgi_hasura_jwt.__all__)
    assert clerk.__all__ == ["Revoker", "events_app", "jwt_secret"]


def test_constructor_validates_everything() -> None:
    with pytest.raises(ConfigError, match="key and jwk_url both cannot be empty"):
        HasuraJWTMiddleware(echo_app, jwt_secret={}, environ={})
    with pytest.raises(ValueError, match="authorized_parties"):
        HasuraJWTMiddleware(echo_app, jwt_secret=HS, authorized_parties="https://a", environ={})


async def test_session_in_scope(keys: dict[str, SigningKey]) -> None:
    token = mint(keys["HS256"])
    result = await call(middleware(jwt_secret=HS), {"Authorization": f"Bearer {token}"})
    assert result.scope is not None
    session = get_session(result.scope)
    assert isinstance(session, Session)
    assert session is result.scope["hasura_session"]
    assert session.role == session["x-hasura-role"] == "user"
    assert isinstance(session.expires_at, float)
    assert json.loads(json.dumps(dict(session))) == dict(session)
    assert all(name == name.lower() for name in session)
    with pytest.raises(TypeError):
        session["x-hasura-role"] = "admin"  # type: ignore[index]
    assert get_session({}) is None
    assert get_session({"hasura_session": {"x-hasura-role": "forged"}}) is None


@pytest.mark.parametrize(
    ("public_paths", "path", "public"),
    [
        (["/health"], "/health", True),
        (["/health"], "/health/deep", False),
        (["/docs*"], "/docs/index.html", True),
        (["/docs*"], "/docs", True),
        (["/docs*"], "/graphql", False),
        ([], "/health", False),
    ],
)
async def test_public_paths(public_paths: list[str], path: str, public: bool) -> None:
    result = await call(middleware(jwt_secret=HS, public_paths=public_paths), {}, path=path)
    if public:
        assert result.status == 200
        assert result.scope is not None
        assert "hasura_session" not in result.scope
    else:
        assert result.error() == (400, "invalid-headers", MISSING)


async def test_other_scope_types_pass_through() -> None:
    seen: list[dict[str, Any]] = []

    async def inner(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope)

    app = HasuraJWTMiddleware(inner, jwt_secret=HS, environ={})
    scope = {"type": "custom.protocol"}
    await app(scope, None, None)  # type: ignore[arg-type]
    assert seen == [scope]
    assert "hasura_session" not in scope


async def test_errors_as_200() -> None:
    result = await call(middleware(jwt_secret=HS, errors_as_200=True), {})
    assert result.error() == (200, "invalid-headers", MISSING)
    wrong = await call(
        middleware(jwt_secret=HS, admin_secret="s", errors_as_200=True),
        {"x-hasura-admin-secret": "x"},
    )
    assert wrong.status == 200
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_error_response_bytes() -> None:
    result = await call(middleware(jwt_secret=HS), {})
    assert result.body == (
        b'{"errors":[{"message":"Missing \'Authorization\' or \'Cookie\' header in JWT '
        b'authentication mode","extensions":{"path":"$","code":"invalid-headers"}}]}'
    )
    assert result.headers["content-length"] == str(len(result.body))
    assert "www-authenticate" not in result.headers


async def test_on_error_hook() -> None:
    from starlette.responses import PlainTextResponse

    seen: list[Any] = []

    def on_error(scope: dict[str, Any], error: asgi_hasura_jwt.AuthError) -> Any:
        seen.append((scope["path"], error.code, error.status))
        if scope["path"] == "/plain":
            return PlainTextResponse(f"denied: {error.code}", status_code=error.status)
        return None

    app = middleware(jwt_secret=HS, on_error=on_error)
    plain = await call(app, {}, path="/plain")
    assert (plain.status, plain.body) == (400, b"denied: invalid-headers")
    default = await call(app, {}, path="/graphql")
    assert default.error() == (400, "invalid-headers", MISSING)
    assert seen == [("/plain", "invalid-headers", 400), ("/graphql", "invalid-headers", 400)]


class _ExplodingSource:
    def keys_now(self, kid: str | None) -> Any:
        raise RuntimeError("boom in a key source")


async def test_unexpected_exception_fails_closed(
    keys: dict[str, SigningKey], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from asgi_hasura_jwt import _keys

    monkeypatch.setattr(_keys.StaticKeys, "keys_now", _ExplodingSource.keys_now)
    token = mint(keys["HS256"])
    with caplog.at_level(logging.DEBUG):
        result = await call(middleware(jwt_secret=HS), {"Authorization": f"Bearer {token}"})
    assert result.error() == (400, "invalid-jwt", "Could not verify JWT: internal error")
    assert "boom in a key source" in caplog.text  # the traceback reaches operators
    assert token not in caplog.text
    assert token.split(".")[2] not in caplog.text
    assert HMAC_SECRET not in caplog.text


async def test_runs_under_trio(keys: dict[str, SigningKey]) -> None:
    import trio

    token = mint(keys["RS256"])
    results: list[Any] = []

    async def main() -> None:
        results.append(
            await call(
                middleware(jwt_secret=keys["RS256"].config), {"Authorization": f"Bearer {token}"}
            )
        )
        results.append(await call(middleware(jwt_secret=HS), {}))

    # A fresh thread-free trio run: the core must not assume asyncio.
    import anyio.to_thread

    await anyio.to_thread.run_sync(trio.run, main)
    assert results[0].status == 200
    assert results[0].session.role == "user"
    assert results[1].error() == (400, "invalid-headers", MISSING)
