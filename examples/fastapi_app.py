"""FastAPI: `HasuraSession` hands a route the session, `require_role` guards a route by role, and
OpenAPI documents the bearer scheme and the middleware's answers.

    uvicorn --factory examples.fastapi_app:create_app    # docs at /docs
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI

from asgi_hasura_jwt import HasuraJWTMiddleware, Session, Settings
from asgi_hasura_jwt.fastapi import (
    AUTH_RESPONSES,
    ROLE_RESPONSES,
    HasuraSession,
    install,
    require_role,
)


def create_app(**options: Any) -> FastAPI:
    """``options`` go to the middleware; without ``jwt_secret`` it reads the environment."""
    # The docs themselves carry no token. Validated now, not when FastAPI builds its middleware
    # at the first event (where a server may swallow the error and answer 500s).
    public = ["/docs", "/docs/oauth2-redirect", "/openapi.json"]
    settings = Settings(public_paths=public, **options)
    app = FastAPI(title="asgi_hasura_jwt with FastAPI")
    install(app)  # refusals get Hasura's error body, as the middleware's do

    @app.get("/me", responses=AUTH_RESPONSES)
    async def me(session: HasuraSession) -> dict[str, str]:
        return dict(session)

    @app.post("/articles", responses={**AUTH_RESPONSES, **ROLE_RESPONSES})
    async def publish(
        session: Annotated[Session, Depends(require_role("editor", "admin"))],
    ) -> dict[str, str]:
        return {"published_by": session["x-hasura-user-id"]}

    app.add_middleware(HasuraJWTMiddleware, settings=settings)
    return app
