"""The demo's GraphQL app: the Strawberry recipe's schema at Hasura's path, behind the middleware
configured for the issuer as for a Clerk instance, plus the browser page.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.asgi import GraphQL

from asgi_hasura_jwt import HasuraJWTMiddleware
from asgi_hasura_jwt.clerk import jwt_secret

from ..strawberry_subscriptions import schema

GRAPHQL_PATH = "/v1/graphql"
SESSION_COOKIE = {"type": "Cookie", "name": "__session"}
_PAGE = Path(__file__).with_name("page.html")


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

    graphql = GraphQL(schema, graphql_ide=None)
    routes = [
        Route("/", index),
        Route(GRAPHQL_PATH, graphql, methods=["GET", "POST"]),
        WebSocketRoute(GRAPHQL_PATH, graphql),
    ]
    return HasuraJWTMiddleware(
        Starlette(routes=routes),
        jwt_secret=jwt_config(issuer),
        # Clerk recommends checking azp against the app's own origins.
        authorized_parties=origins,
        public_paths=["/", "/favicon.ico"],
        # The demo behaves the same whatever HASURA_GRAPHQL_* variables the shell has.
        environ={},
    )
