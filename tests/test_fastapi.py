"""`asgi_hasura_jwt.fastapi` under uvicorn with httpx: `HasuraSession`, `require_role` and their
refusals byte for byte, with Clerk-shaped tokens; the OpenAPI document they produce."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from asgi_hasura_jwt import ConfigError, HasuraJWTMiddleware, Settings
from asgi_hasura_jwt.fastapi import HasuraSession, install, require_role
from asgi_hasura_jwt.testing import CLERK_CATEGORIES
from examples import fastapi_app

from .clerk_tokens import ISSUER, USER, clerk_token, session_claims, template_claims
from .conftest import NAMESPACE, SigningKey, hasura_claims
from .servers import serve

pytestmark = pytest.mark.network

ROLE_REFUSED = (
    b'{"errors":[{"message":"Your requested role is not in allowed roles",'
    b'"extensions":{"path":"$","code":"access-denied"}}]}'
)
NO_SESSION = (
    b'{"errors":[{"message":"No Hasura session: this path is public or HasuraJWTMiddleware is'
    b' not installed","extensions":{"path":"$","code":"access-denied"}}]}'
)


def recipe(key: SigningKey, **clerk: str) -> FastAPI:
    """The README's recipe (examples/fastapi_app.py), for the suite's Clerk instance."""
    config = {**key.config, "issuer": ISSUER, "clerk": {"token": "template", **clerk}}
    return fastapi_app.create_app(jwt_secret=config, environ={})


def guarded_app(key: SigningKey, *, handler: bool) -> FastAPI:
    """The other forms: a route-level ``dependencies=``, a session route under a public path."""
    app = FastAPI()
    if handler:
        install(app)

    @app.post("/drafts", dependencies=[Depends(require_role("editor"))], status_code=204)
    async def drafts() -> None:
        return None

    @app.get("/public/whoami")
    async def whoami(session: HasuraSession) -> str:
        return session.role

    settings = Settings(
        jwt_secret={**key.config, "issuer": ISSUER}, public_paths=["/public/*"], environ={}
    )
    app.add_middleware(HasuraJWTMiddleware, settings=settings)
    return app


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(app, lifespan="on") as base, httpx.AsyncClient(base_url=base) as client:
        yield client


def editor_token(key: SigningKey) -> str:
    hasura = hasura_claims(user_id=USER, roles=["user", "editor"])
    return clerk_token(
        key, template_claims(**{NAMESPACE: hasura}), cat=CLERK_CATEGORIES["template"]
    )


def bearer(token: str, role: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    return headers if role is None else {**headers, "x-hasura-role": role}


async def test_hasura_session_and_require_role(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    token = editor_token(key)
    async with client_of(recipe(key)) as client:
        me = await client.get("/me", headers=bearer(token))
        allowed = await client.post("/articles", headers=bearer(token, "editor"))
        refused = await client.post("/articles", headers=bearer(token))  # default role: user
        missing = await client.post("/articles")
    assert me.json() == {"x-hasura-user-id": USER, "x-hasura-role": "user"}
    assert allowed.json() == {"published_by": USER}
    # The middleware's body exactly: no {"detail": ...}, no other header than the middleware's.
    assert (refused.status_code, refused.content) == (403, ROLE_REFUSED)
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["content-length"] == str(len(ROLE_REFUSED))
    assert "www-authenticate" not in refused.headers
    # No token never reaches the dependency: the middleware answers first.
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["extensions"]["code"] == "invalid-headers"


async def test_a_clerk_session_token_is_refused_an_editor_route(
    keys: dict[str, SigningKey],
) -> None:
    key = keys["RS256"]
    app = fastapi_app.create_app(
        jwt_secret={**key.config, "issuer": ISSUER, "clerk": {"token": "session"}}, environ={}
    )
    # The session config maps Clerk's session token to role "user" (no template).
    token = clerk_token(key, session_claims(), cat=CLERK_CATEGORIES["session"])
    async with client_of(app) as client:
        me = await client.get("/me", headers=bearer(token))
        refused = await client.post("/articles", headers=bearer(token))
    assert me.json() == {"x-hasura-user-id": USER, "x-hasura-role": "user"}
    assert (refused.status_code, refused.content) == (403, ROLE_REFUSED)


async def test_a_session_route_under_a_public_path_fails_closed(
    keys: dict[str, SigningKey],
) -> None:
    key = keys["RS256"]
    token = editor_token(key)
    async with client_of(guarded_app(key, handler=True)) as client:
        # Even with a valid token: a public path is never authenticated, so there is no session.
        refused = await client.get("/public/whoami", headers=bearer(token))
        editor = await client.post("/drafts", headers=bearer(token, "editor"))
        user = await client.post("/drafts", headers=bearer(token))
    assert (editor.status_code, user.status_code, user.content) == (204, 403, ROLE_REFUSED)
    assert (refused.status_code, refused.content) == (401, NO_SESSION)
    assert refused.headers["www-authenticate"] == "Bearer"


async def test_without_install_refusals_keep_their_status(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    token = editor_token(key)
    async with client_of(guarded_app(key, handler=False)) as client:
        refused = await client.post("/drafts", headers=bearer(token))
        public = await client.get("/public/whoami")
    # FastAPI's own body, but never a pass: the status and message are the same.
    assert (refused.status_code, refused.json()) == (
        403,
        {"detail": "Your requested role is not in allowed roles"},
    )
    assert public.status_code == 401
    assert public.headers["www-authenticate"] == "Bearer"


async def test_openapi_documents_the_scheme_and_the_answers(keys: dict[str, SigningKey]) -> None:
    async with client_of(recipe(keys["RS256"])) as client:
        # The docs are public paths: they need no token.
        assert (await client.get("/docs")).status_code == 200
        document = (await client.get("/openapi.json")).json()
    scheme = document["components"]["securitySchemes"]["HasuraJWT"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    me = document["paths"]["/me"]["get"]
    articles = document["paths"]["/articles"]["post"]
    assert me["security"] == articles["security"] == [{"HasuraJWT": []}]
    assert set(me["responses"]) == {"200", "400", "401"}
    assert set(articles["responses"]) == {"200", "400", "401", "403"}
    schema = articles["responses"]["403"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/HasuraError"}


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ((), "require_role: name at least one role"),
        (("",), "require_role: every entry must be a non-empty string, got ''"),
        ((["editor"],), "require_role: every entry must be a non-empty string, got ['editor']"),
    ],
)
def test_require_role_validates_its_roles(roles: tuple[Any, ...], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        require_role(*roles)
    assert str(raised.value) == message
