"""Starlette: the middleware in the app's middleware list; endpoints read the session.

    HASURA_GRAPHQL_JWT_SECRET='{"type":"RS256","key":"-----BEGIN PUBLIC KEY-----..."}' \
        uvicorn --factory examples.starlette_app:create_app
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from asgi_hasura_jwt import HasuraJWTMiddleware, Settings, get_session


async def me(request: Request) -> JSONResponse:
    session = get_session(request.scope)
    assert session is not None  # the middleware answered every request without one
    return JSONResponse({"role": session.role, "session": dict(session)})


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def create_app(**options: Any) -> Starlette:
    """``options`` go to the middleware; without ``jwt_secret`` it reads the environment."""
    # Validated now: Starlette builds its middleware only at the first event, where a server
    # may swallow a bad HASURA_GRAPHQL_JWT_SECRET and answer every request with a 500.
    # Health checks carry no token: a public path gets no session and no check.
    settings = Settings(public_paths=["/healthz"], **options)
    return Starlette(
        routes=[Route("/me", me), Route("/healthz", health)],
        middleware=[Middleware(HasuraJWTMiddleware, settings=settings)],
    )
