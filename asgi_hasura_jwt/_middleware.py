"""`HasuraJWTMiddleware`: the thin pure-ASGI class that wires the modules together."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import Core, resolve_settings
from ._events import PUBLIC
from ._http import HTTPAuth
from ._jwks import JWKSStatus, handle_lifespan
from ._request import headers_carrying
from ._revocation import RevocationStatus
from ._session import Session
from ._settings import Settings
from ._types import ASGIApp, Receive, Scope, Send
from ._websocket import WebSocketAuth

# Namespaced: the scope is shared with the app and every other middleware.
MIDDLEWARE_KEY = "asgi_hasura_jwt.middleware"


class HasuraJWTMiddleware:
    """Authenticate ``http`` and ``websocket`` scopes like Hasura's JWT mode.

    ``options`` are `Settings`' keyword arguments; or pass ``settings=`` built beforehand (one
    or the other). Everything is parsed and validated here at the latest; `ConfigError` (a
    ``ValueError``) is raised for any problem. ``None`` means "read the environment" for
    ``jwt_secret``, ``admin_secret`` and ``unauthorized_role``.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings | None = None, **options: Any) -> None:
        core = self._core = Core(resolve_settings(settings, options))
        settings = core.settings
        self.app = app
        self._events = events = core.events
        self._revocations = core.revocations
        self._background = core.background
        self._exact_public = settings.public_exact
        self._public_prefixes = settings.public_prefixes
        self._any_public = bool(self._exact_public or self._public_prefixes)
        self._http = HTTPAuth(
            app,
            core.authenticator,
            errors_as_200=settings.errors_as_200,
            on_error=settings.on_error,
            events=events,
        )
        self._websocket = WebSocketAuth(
            app,
            core.authenticator,
            allowed_origins=settings.allowed_origins,
            clock=settings.clock,
            default_protocol=settings.websocket_default_protocol,
            sockets=self._revocations.sockets,
            events=events,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "http" or scope_type == "websocket":
            # Public paths too: a /healthz route reaches jwks_status() through it.
            scope[MIDDLEWARE_KEY] = self
            if self._any_public and self._is_public(scope_type, scope["path"]):
                await self.app(scope, receive, send)
            elif scope_type == "websocket":
                await self._websocket(scope, receive, send)
            elif self._http.serve_cached(scope):  # most requests: no await before the app's
                await self.app(scope, receive, send)
            else:
                await self._http(scope, receive, send)
            return
        if scope_type == "lifespan":
            await handle_lifespan(self.app, scope, receive, send, self._background)
            return
        await self.app(scope, receive, send)

    def _is_public(self, scope_type: str, path: str) -> bool:
        if path in self._exact_public or path.startswith(self._public_prefixes):
            if self._events is not None:
                self._events.emit(PUBLIC[scope_type])
            return True
        return False

    async def authenticate_token(self, token: str, role: str | None = None) -> Session:
        """Verify ``token`` outside a request (a worker, a CLI, a test), as a request would be.

        The token is presented where the configs read it (``Authorization`` if one does, else
        the first config's location), asking for ``role`` (``None``: the default role). Returns
        the `Session` the app would see; raises the `AuthError` the middleware would answer.
        A token Clerk counts as signed out gets the unauthorized role, as a request would.
        """
        if not isinstance(token, str):
            raise TypeError(f"token: expected a str, got {type(token).__name__}")
        if role is not None and not isinstance(role, str):
            raise TypeError(f"role: expected a str or None, got {type(role).__name__}")
        authenticator = self._core.authenticator
        headers = headers_carrying(token, authenticator.token_location, role)
        return await authenticator.authenticate(headers)

    def jwks_status(self) -> list[JWKSStatus]:
        """The state of every remote key set, for a health endpoint (spec 4.3)."""
        return self._core.jwks_status()

    async def revoke(self, *, sub: str | None = None, sid: str | None = None) -> None:
        """End sessions now: tokens with this ``sid``, and tokens of this ``sub`` issued
        (``iat``) at or before this instant, are refused (``invalid-jwt`` ``JWTRevoked``) and
        their open websockets closed (4403). Shared with every process through the
        ``revocations`` store. Idempotent. Raises `TypeError` when neither is given or one is
        not a string, `ValueError` for an empty string.
        """
        await self._revocations.revoke(sub=sub, sid=sid)

    def revocation_status(self) -> RevocationStatus:
        """Revocations in force, open sockets, and the store's state, for a health endpoint."""
        return self._revocations.status()


def get_middleware(scope: Mapping[str, Any]) -> HasuraJWTMiddleware | None:
    """The `HasuraJWTMiddleware` that saw this ``http`` or ``websocket`` scope, or ``None``.

    For apps whose framework builds the middleware (``app.add_middleware(...)``): a route
    reaches its ``jwks_status()`` or ``authenticate_token()`` through the request's scope.
    With several middlewares in a stack, the innermost one (closest to the app) is returned.
    """
    middleware = scope.get(MIDDLEWARE_KEY)
    return middleware if isinstance(middleware, HasuraJWTMiddleware) else None
