"""FastAPI dependencies for routes behind `HasuraJWTMiddleware` (the ``[fastapi]`` extra).

- `HasuraSession`: ``session: HasuraSession`` hands a route the request's `Session`; it is also
  the OpenAPI bearer security scheme, so ``/docs`` offers "Authorize".
- `require_role` (``Depends(require_role("editor"))``): refuses every other role with 403
  ``access-denied``.
- `AUTH_RESPONSES`, `ROLE_RESPONSES`: the middleware's and `require_role`'s answers, for
  ``responses=``.
- `install` (``install(app)``): registers the handler that answers `HasuraHTTPError` with
  Hasura's error body, byte for byte the middleware's. A dependency cannot choose the body of
  its refusal — FastAPI's own handler would write ``{"detail": ...}`` — so without `install`
  the refusals keep their status and message in FastAPI's shape: they never let a request in.

Only this module imports FastAPI; ``import asgi_hasura_jwt`` does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from ._errors import AccessDenied, AuthError, ConfigError
from ._http import error_headers
from ._options import strings
from ._roles import ROLE_NOT_ALLOWED
from ._session import NO_SESSION_MESSAGE, Session, get_session

__all__ = [
    "AUTH_RESPONSES",
    "ROLE_RESPONSES",
    "HasuraError",
    "HasuraHTTPError",
    "HasuraSession",
    "install",
    "require_role",
]


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
    401: {
        "model": HasuraError,
        "description": "Wrong admin secret, or no session on this path (access-denied)",
    },
}
ROLE_RESPONSES: dict[int | str, dict[str, Any]] = {
    403: {"model": HasuraError, "description": "The session's role may not use this route"},
}


class HasuraHTTPError(HTTPException):
    """An `AuthError` raised by a dependency; `install`'s handler answers it with Hasura's body.

    An `HTTPException`, so that without the handler FastAPI still answers with its status.
    """

    def __init__(self, error: AuthError) -> None:
        headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
        super().__init__(error.status, error.message, headers=headers)
        self.error = error


async def _hasura_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HasuraHTTPError)  # registered for this class only
    body = exc.error.to_json()
    headers = {name.decode(): value.decode() for name, value in error_headers(exc.error, body)}
    return Response(body, status_code=exc.error.status, headers=headers)


def install(app: FastAPI) -> None:
    """Answer `HasuraSession` and `require_role` refusals with Hasura's error body."""
    app.add_exception_handler(HasuraHTTPError, _hasura_error_handler)


# auto_error=False: the middleware has already checked the token; the scheme only documents it.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="HasuraJWT",
    description="A Hasura JWT, e.g. from Clerk's Hasura JWT template",
)


def _session(
    request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Session:
    session = get_session(request.scope)
    if session is None:
        # A deployment mistake (a public path, or no middleware): it fails closed, as a
        # missing credential.
        raise HasuraHTTPError(AccessDenied(NO_SESSION_MESSAGE, status=401))
    return session


HasuraSession = Annotated[Session, Depends(_session)]


def require_role(*roles: str) -> Callable[[Session], Session]:
    """A dependency (``Depends(require_role("editor", "admin"))``) that returns the `Session`
    when its role is one of ``roles``, else raises `HasuraHTTPError` (403 ``access-denied``).
    Raises `ConfigError` for no roles or a role that is not a non-empty string."""
    allowed = frozenset(strings("require_role", roles))
    if not allowed:
        raise ConfigError("require_role: name at least one role")

    def role_allowed(session: HasuraSession) -> Session:
        if session.role not in allowed:
            # Hasura's own text (spec 2.7): clients that handle the middleware's refusal handle
            # this one alike, and the route's roles are not disclosed.
            raise HasuraHTTPError(AccessDenied(ROLE_NOT_ALLOWED, status=403))
        return session

    return role_allowed
