"""`HasuraJWTMiddleware`: the thin pure-ASGI class that wires the modules together."""

from __future__ import annotations

from typing import Any

from ._core import Core, resolve_settings
from ._http import HTTPAuth
from ._jwks import JWKSStatus, handle_lifespan
from ._settings import Settings
from ._types import ASGIApp, Receive, Scope, Send
from ._websocket import WebSocketAuth


class HasuraJWTMiddleware:
    """Authenticate ``http`` and ``websocket`` scopes like Hasura's JWT mode.

    ``options`` are `Settings`' keyword arguments; or pass ``settings=`` built beforehand (one
    or the other). Everything is parsed and validated here at the latest; `ConfigError` (a
    ``ValueError``) is raised for any problem. ``None`` means "read the environment" for
    ``jwt_secret``, ``admin_secret`` and ``unauthorized_role``.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings | None = None, **options: Any) -> None:
        core = Core(resolve_settings(settings, options))
        settings = core.settings
        self.app = app
        self._core = core
        self._remote_key_sets = core.remote_key_sets
        self._exact_public = settings.public_exact
        self._public_prefixes = settings.public_prefixes
        self._http = HTTPAuth(
            app,
            core.authenticator,
            errors_as_200=settings.errors_as_200,
            on_error=settings.on_error,
        )
        self._websocket = WebSocketAuth(
            app,
            core.authenticator,
            allowed_origins=settings.allowed_origins,
            clock=settings.clock,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "lifespan":
            await handle_lifespan(self.app, scope, receive, send, self._remote_key_sets)
            return
        if scope_type not in ("http", "websocket") or self._is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        if scope_type == "websocket":
            await self._websocket(scope, receive, send)
            return
        await self._http(scope, receive, send)

    def _is_public(self, path: str) -> bool:
        return path in self._exact_public or (
            bool(self._public_prefixes) and path.startswith(self._public_prefixes)
        )

    def jwks_status(self) -> list[JWKSStatus]:
        """The state of every remote key set, for a health endpoint (spec 4.3)."""
        return self._core.jwks_status()
