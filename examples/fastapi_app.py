"""FastAPI: a dependency returns the session; OpenAPI documents the bearer scheme and the
middleware's 400/401 answers.

    uvicorn --factory examples.fastapi_app:create_app    # docs at /docs
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from asgi_hasura_jwt import HasuraJWTMiddleware, Session, Settings, get_session


class ErrorExtensions(BaseModel):
    path: str
    code: str


class ErrorItem(BaseModel):
    message: str
    extensions: ErrorExtensions


class HasuraError(BaseModel):
    """Hasura's error body, as the middleware sends it."""

    errors: list[ErrorItem]


AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {
        "model": HasuraError,
        "description": "No token, or it failed verification (invalid-headers, invalid-jwt,"
        " jwt-invalid-claims, jwt-missing-role-claims; access-denied for a role not allowed)",
    },
    401: {"model": HasuraError, "description": "Wrong admin secret (access-denied)"},
}
# auto_error=False: the middleware has already checked the token; this only puts the scheme in
# the OpenAPI document, so /docs offers an "Authorize" button.
bearer = HTTPBearer(auto_error=False, description="A Hasura JWT, e.g. Clerk's hasura template")


def hasura_session(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Session:
    session = get_session(request.scope)
    if session is None:  # a route under a public path: the middleware did not run
        raise HTTPException(401, "not authenticated", headers={"WWW-Authenticate": "Bearer"})
    return session


HasuraSession = Annotated[Session, Depends(hasura_session)]


def create_app(**options: Any) -> FastAPI:
    """``options`` go to the middleware; without ``jwt_secret`` it reads the environment."""
    # The docs themselves carry no token. Validated now, not when FastAPI builds its middleware
    # at the first event (where a server may swallow the error and answer 500s).
    public = ["/docs", "/docs/oauth2-redirect", "/openapi.json"]
    settings = Settings(public_paths=public, **options)
    app = FastAPI(title="asgi_hasura_jwt with FastAPI")

    @app.get("/me", responses=AUTH_RESPONSES)
    async def me(session: HasuraSession) -> dict[str, str]:
        return dict(session)

    app.add_middleware(HasuraJWTMiddleware, settings=settings)
    return app
