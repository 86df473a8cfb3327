"""What an app behind the middleware uses: `Session.claims`, `authenticate_token` and
`get_middleware` (the issue "Clerk-grade sessions and the app-facing API")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from asgi_hasura_jwt import (
    AccessDenied,
    HasuraJWTMiddleware,
    InvalidHeaders,
    InvalidJWT,
    get_middleware,
)
from asgi_hasura_jwt._clerk import PENDING_MESSAGE

from .clerk_tokens import ISSUER, USER, clerk_token, session_claims
from .conftest import HMAC_SECRET, NAMESPACE, SigningKey, call, echo_app, middleware, mint, payload

HS = {"type": "HS256", "key": HMAC_SECRET}
ADMIN = "admin-secret-value"
MISSING = "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"


# --- Session.claims ----------------------------------------------------------------------------


async def test_session_claims_are_the_verified_payload(keys: dict[str, SigningKey]) -> None:
    claims = payload(sid="sess_1", azp="https://app.example", org_id="org_1")
    token = mint(keys["HS256"], claims)
    app = middleware(jwt_secret=HS)
    for _ in range(2):  # the full path, then the cache-hit fast path
        session = (await call(app, {"Authorization": f"Bearer {token}"})).session
        assert dict(session.claims) == claims
        assert session.claims["sid"] == "sess_1"
        # dict(session) stays the session variables only, JSON-serialisable.
        assert json.loads(json.dumps(dict(session))) == {
            "x-hasura-user-id": "user-1",
            "x-hasura-role": "user",
        }


async def test_session_claims_are_read_only(keys: dict[str, SigningKey]) -> None:
    token = mint(keys["HS256"])
    session = (await call(middleware(jwt_secret=HS), {"Authorization": f"Bearer {token}"})).session
    with pytest.raises(TypeError):
        session.claims["sub"] = "someone-else"
    with pytest.raises(TypeError):
        del session.claims["sub"]


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"x-hasura-admin-secret": ADMIN}, id="admin"),
        pytest.param({}, id="unauthorized"),
    ],
)
async def test_header_sessions_have_no_claims(
    keys: dict[str, SigningKey], headers: dict[str, str]
) -> None:
    app = middleware(jwt_secret=HS, admin_secret=ADMIN, unauthorized_role="anonymous")
    session = (await call(app, headers)).session
    assert dict(session.claims) == {}
    with pytest.raises(TypeError):
        session.claims["sub"] = "x"  # type: ignore[index]


# --- authenticate_token ------------------------------------------------------------------------


async def test_authenticate_token(keys: dict[str, SigningKey]) -> None:
    app = HasuraJWTMiddleware(echo_app, jwt_secret=HS, environ={})
    token = mint(keys["HS256"], payload(exp=4_000_000_000))
    session = await app.authenticate_token(token)
    assert dict(session) == {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
    assert session.expires_at == 4_000_000_000
    assert session.claims["sub"] == "user-1"
    assert (await app.authenticate_token(token, role="editor")).role == "editor"
    with pytest.raises(AccessDenied) as denied:
        await app.authenticate_token(token, role="admin")
    assert (denied.value.code, denied.value.status, denied.value.message) == (
        "access-denied",
        400,
        "Your requested role is not in allowed roles",
    )


@pytest.mark.parametrize(
    ("token", "error", "message"),
    [
        ("", InvalidHeaders, "Malformed Authorization header"),
        ("a b", InvalidHeaders, "Malformed Authorization header"),
        (
            "a.b",
            InvalidJWT,
            "Could not verify JWT: JWSError (CompactDecodeError Invalid number of parts:"
            " Expected 3 parts; got 2)",
        ),
        ("x.y.z\u00e9", InvalidJWT, None),
    ],
)
async def test_authenticate_token_raises_what_the_middleware_answers(
    token: str, error: type[Exception], message: str | None
) -> None:
    app = HasuraJWTMiddleware(echo_app, jwt_secret=HS, environ={})
    answered = await call(
        middleware(jwt_secret=HS), raw_headers=[(b"authorization", b"Bearer " + token.encode())]
    )
    with pytest.raises(error) as raised:
        await app.authenticate_token(token)
    assert answered.error() == (400, raised.value.code, raised.value.message)  # type: ignore[attr-defined]
    if message is not None:
        assert raised.value.message == message  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("configs", "expected"),
    [
        # Authorization when a config reads it, wherever it is in the list.
        (
            [{**HS, "header": {"type": "Cookie", "name": "t"}, "claims_namespace": "c"}, HS],
            "user-1",
        ),
        ([{**HS, "header": {"type": "Cookie", "name": "__session"}}], "user-1"),
        ([{**HS, "header": {"type": "CustomHeader", "name": "X-Token"}}], "user-1"),
        # Else the first config's location: the cookie one here, reading namespace "c".
        (
            [
                {**HS, "header": {"type": "Cookie", "name": "t"}, "claims_namespace": "c"},
                {**HS, "header": {"type": "CustomHeader", "name": "x-token"}},
            ],
            "from-c",
        ),
    ],
)
async def test_authenticate_token_presents_where_configs_read(
    keys: dict[str, SigningKey], configs: list[dict[str, Any]], expected: str
) -> None:
    claims = payload(c={**payload()[NAMESPACE], "x-hasura-user-id": "from-c"})
    token = mint(keys["HS256"], claims)
    app = HasuraJWTMiddleware(echo_app, jwt_secret=configs, environ={})
    assert (await app.authenticate_token(token))["x-hasura-user-id"] == expected


async def test_authenticate_token_and_clerk_signed_out(keys: dict[str, SigningKey]) -> None:
    # A pending session is signed out (spec 6): the unauthorized role, else invalid-headers.
    config = {**keys["RS256"].config, "issuer": ISSUER, "clerk": {"token": "session"}}
    token = clerk_token(keys["RS256"], session_claims(sts="pending"))
    app = HasuraJWTMiddleware(echo_app, jwt_secret=config, environ={})
    with pytest.raises(InvalidHeaders) as raised:
        await app.authenticate_token(token)
    assert raised.value.message == PENDING_MESSAGE
    app = HasuraJWTMiddleware(echo_app, jwt_secret=config, unauthorized_role="guest", environ={})
    assert dict(await app.authenticate_token(token)) == {"x-hasura-role": "guest"}
    # A cookie config presents no __client_uat: nothing to call the token stale against.
    cookie = {**config, "header": {"type": "Cookie", "name": "__session"}}
    app = HasuraJWTMiddleware(echo_app, jwt_secret=cookie, environ={})
    session = await app.authenticate_token(clerk_token(keys["RS256"], session_claims()))
    assert session["x-hasura-user-id"] == USER


async def test_authenticate_token_refuses_non_strings() -> None:
    app = HasuraJWTMiddleware(echo_app, jwt_secret=HS, environ={})
    with pytest.raises(TypeError, match="token: expected a str, got bytes"):
        await app.authenticate_token(b"x.y.z")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="role: expected a str or None, got int"):
        await app.authenticate_token("x.y.z", role=1)  # type: ignore[arg-type]


# --- get_middleware ----------------------------------------------------------------------------


async def test_get_middleware_in_every_http_scope(keys: dict[str, SigningKey]) -> None:
    seen: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(get_middleware(scope))
        await echo_app(scope, receive, send)

    app = HasuraJWTMiddleware(inner, jwt_secret=HS, public_paths=["/healthz"], environ={})
    token = mint(keys["HS256"])
    await call(app, {"Authorization": f"Bearer {token}"})
    await call(app, path="/healthz")
    assert seen == [app, app]
    assert get_middleware({"type": "http"}) is None
    assert get_middleware({"asgi_hasura_jwt.middleware": "forged"}) is None


async def test_get_middleware_in_websocket_scopes() -> None:
    scopes: list[Any] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        scopes.append(scope)

    app = HasuraJWTMiddleware(inner, jwt_secret=HS, public_paths=["/ws"], environ={})
    scope = {"type": "websocket", "path": "/ws", "headers": [], "subprotocols": []}

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, Any]) -> None:
        pass

    await app(scope, receive, send)
    assert get_middleware(scopes[0]) is app
    lifespan: dict[str, Any] = {"type": "lifespan"}
    assert get_middleware(lifespan) is None


async def test_get_middleware_under_add_middleware(keys: dict[str, SigningKey]) -> None:
    # The framework builds the middleware; a public /healthz reaches it through its scope.
    async def healthz(request: Request) -> JSONResponse:
        middleware = get_middleware(request.scope)
        assert middleware is not None
        return JSONResponse({"jwks": [status.ready for status in middleware.jwks_status()]})

    async def whoami(request: Request) -> JSONResponse:
        middleware = get_middleware(request.scope)
        assert middleware is not None
        token = request.headers["x-worker-token"]
        return JSONResponse(dict(await middleware.authenticate_token(token)))

    routes = [
        Route("/healthz", healthz, methods=["POST"]),
        Route("/whoami", whoami, methods=["POST"]),
    ]
    starlette = Starlette(routes=routes)
    starlette.add_middleware(
        HasuraJWTMiddleware, jwt_secret=HS, public_paths=["/healthz", "/whoami"], environ={}
    )
    health = await call(starlette, path="/healthz")
    assert (health.status, health.json) == (200, {"jwks": []})
    token = mint(keys["HS256"])
    who = await call(starlette, {"x-worker-token": token}, path="/whoami")
    assert who.json == {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
