"""The demo's GraphQL app: the Strawberry recipe's schema at Hasura's path, behind the middleware
configured for the issuer as for a Clerk instance, plus the browser page and its graphql-ws
client.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from asgi_hasura_jwt import HasuraJWTMiddleware
from asgi_hasura_jwt.clerk import jwt_secret

from ..strawberry_subscriptions import schema

GRAPHQL_PATH = "/v1/graphql"
SESSION_COOKIE = {"type": "Cookie", "name": "__session"}
_PAGE = Path(__file__).with_name("page.html")
# The graphql-ws library's browser build (UMD: it defines window.graphqlWs), installed from the
# npm registry by `make demo-deps` (npm ci, pinned in package-lock.json), so the page works
# without the internet.
CLIENT_PATH = "/graphql-ws.js"
CLIENT_BUILD = Path(__file__).with_name("node_modules") / "graphql-ws/umd/graphql-ws.min.js"


def jwt_config(issuer: str) -> list[dict[str, Any]]:
    """What ``HASURA_GRAPHQL_JWT_SECRETS`` holds for a Clerk instance, pointed at the issuer:
    Hasura-template tokens in ``Authorization``, session tokens in Clerk's ``__session``
    cookie (mapped without a template). Both read the issuer's JWKS."""
    session = {**jwt_secret(issuer, token="session"), "header": SESSION_COOKIE}
    return [jwt_secret(issuer, token="template"), session]


def create_app(*, issuer: str, origins: Sequence[str], token_url: str) -> HasuraJWTMiddleware:
    page = _PAGE.read_text(encoding="utf-8").replace("{{TOKEN_URL}}", html.escape(token_url))

    async def index(request: Request) -> HTMLResponse:
        return HTMLResponse(page)

    async def client(request: Request) -> Response:
        if CLIENT_BUILD.is_file():
            return FileResponse(CLIENT_BUILD, media_type="text/javascript")
        return Response("/* run `make demo-deps` */", 404, media_type="text/javascript")

    graphql = GraphQL(schema, graphql_ide=None)
    routes = [
        Route("/", index),
        Route(CLIENT_PATH, client),
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        WebSocketRoute(GRAPHQL_PATH, graphql),
    ]
    return HasuraJWTMiddleware(
        Starlette(routes=routes),
        jwt_secret=jwt_config(issuer),
        # Clerk recommends checking azp against the app's own origins.
        authorized_parties=origins,
        public_paths=["/", "/favicon.ico", CLIENT_PATH],
        # The demo behaves the same whatever HASURA_GRAPHQL_* variables the shell has.
        environ={},
    )
