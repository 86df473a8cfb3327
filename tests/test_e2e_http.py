"""End to end over a real socket: the middleware inside uvicorn on 127.0.0.1, called with httpx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from asgi_hasura_jwt import HasuraJWTMiddleware, get_session

from .conftest import HMAC_SECRET, SigningKey, mint, payload
from .servers import serve

pytestmark = pytest.mark.network


async def me(request: Request) -> JSONResponse:
    session = get_session(request.scope)
    return JSONResponse({"session": dict(session) if session else None})


def starlette_app(**options: Any) -> Any:
    app = Starlette(routes=[Route("/graphql", me, methods=["GET", "POST"]), Route("/health", me)])
    return HasuraJWTMiddleware(app, environ={}, **options)


async def test_uvicorn_round_trip(keys: dict[str, SigningKey]) -> None:
    app = starlette_app(
        jwt_secret=[
            {**keys["RS256"].config, "issuer": "rs"},
            {"type": "HS256", "key": HMAC_SECRET, "issuer": "hs"},
        ],
        admin_secret="admin-secret",
        public_paths=["/health"],
    )
    rs_token = mint(keys["RS256"], payload(iss="rs"))
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        ok = await client.post(
            "/graphql",
            headers={"Authorization": f"Bearer {rs_token}", "x-hasura-role": "editor"},
        )
        assert ok.status_code == 200
        assert ok.json() == {"session": {"x-hasura-user-id": "user-1", "x-hasura-role": "editor"}}

        missing = await client.post("/graphql")
        assert missing.status_code == 400
        assert missing.headers["content-type"] == "application/json"
        assert missing.json() == {
            "errors": [
                {
                    "message": "Missing 'Authorization' or 'Cookie' header in JWT "
                    "authentication mode",
                    "extensions": {"path": "$", "code": "invalid-headers"},
                }
            ]
        }

        denied = await client.post("/graphql", headers={"x-hasura-admin-secret": "nope"})
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"] == "Bearer"
        assert denied.json()["errors"][0]["extensions"]["code"] == "access-denied"

        admin = await client.post("/graphql", headers={"x-hasura-admin-secret": "admin-secret"})
        assert admin.json() == {"session": {"x-hasura-role": "admin"}}

        health = await client.get("/health")
        assert health.json() == {"session": None}

        garbage = await client.post("/graphql", headers={"Authorization": "Bearer \x01.\x02.\x03"})
        assert garbage.status_code == 400
        # Unreadable, so no iss: it pairs with both issuer configs (spec 2.2).
        assert garbage.json()["errors"][0] == {
            "message": "Could not verify JWT: Multiple JWTs found",
            "extensions": {"path": "$", "code": "invalid-headers"},
        }


async def test_uvicorn_clerk_session_cookie(keys: dict[str, SigningKey]) -> None:
    # Clerk's browser flow over a real socket: the session token in __session, __client_uat
    # beside it; a machine token of the same instance and a stale session are refused.
    from .clerk_tokens import ISSUER, USER, clerk_token, machine_claims, session_claims

    key = keys["RS256"]
    config = {
        **key.config,
        "issuer": ISSUER,
        "header": {"type": "Cookie", "name": "__session"},
        "clerk": {"token": "session"},
    }
    app = starlette_app(jwt_secret=config, unauthorized_role="anonymous")
    claims = session_claims(o={"id": "org_1", "slg": "acme", "rol": "admin"})
    session = clerk_token(key, claims, cat="cl_B7d4PD111AAA")
    machine = clerk_token(key, machine_claims(), cat="cl_B7d4PD333AAA")
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:

        async def post(cookie: str) -> httpx.Response:
            return await client.post("/graphql", headers={"Cookie": cookie})

        ok = await post(f"__client_uat={claims['iat']}; __session={session}")
        assert ok.status_code == 200
        assert ok.json() == {
            "session": {
                "x-hasura-user-id": USER,
                "x-hasura-org-id": "org_1",
                "x-hasura-org-slug": "acme",
                "x-hasura-org-role": "org:admin",
                "x-hasura-role": "user",
            }
        }
        refused = await post(f"__client_uat={claims['iat']}; __session={machine}")
        assert refused.status_code == 400
        assert refused.json()["errors"][0] == {
            "message": "Could not verify JWT: JWTWrongCategory: not a Clerk session token",
            "extensions": {"path": "$", "code": "invalid-jwt"},
        }
        signed_out = await post(f"__client_uat=0; __session={session}")
        assert signed_out.json() == {"session": {"x-hasura-role": "anonymous"}}
