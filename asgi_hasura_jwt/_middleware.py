"""`HasuraJWTMiddleware`: the thin pure-ASGI class that wires the modules together."""

from __future__ import annotations

from typing import Any

from ._auth import Authenticator
from ._errors import ConfigError
from ._events import PUBLIC, Events
from ._http import HTTPAuth
from ._jwks import JWKSStatus, KeySources, handle_lifespan
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
        if settings is None:
            settings = Settings(**options)
        elif options:
            raise ConfigError(
                f"settings: pass either settings= or options, not both (got {sorted(options)})"
            )
        elif not isinstance(settings, Settings):
            raise ConfigError(f"settings: expected Settings, got {type(settings).__name__}")
        self.app = app
        self._events = events = Events.of(settings.on_event)
        key_sources = KeySources(settings.jwks, http_client=settings.http_client, events=events)
        self._authenticator = Authenticator(
            settings.configs,
            key_sources,
            admin_secret=settings.admin_secret,
            unauthorized_role=settings.unauthorized_role,
            authorized_parties=settings.authorized_parties,
            require_azp=settings.require_azp,
            max_token_bytes=settings.max_token_bytes,
            cache_entries=settings.token_cache_size,
            cache_bytes=settings.token_cache_bytes,
            clock=settings.clock,
        )
        self._remote_key_sets = list(key_sources.remote.values())
        self._exact_public = settings.public_exact
        self._public_prefixes = settings.public_prefixes
        self._http = HTTPAuth(
            app,
            self._authenticator,
            errors_as_200=settings.errors_as_200,
            on_error=settings.on_error,
            events=events,
        )
        self._websocket = WebSocketAuth(
            app,
            self._authenticator,
            allowed_origins=settings.allowed_origins,
            clock=settings.clock,
            events=events,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "lifespan":
            await handle_lifespan(self.app, scope, receive, send, self._remote_key_sets)
            return
        if scope_type not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if self._is_public(scope["path"]):
            if self._events is not None:
                self._events.emit(PUBLIC[scope_type])
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
        return [key_set.status() for key_set in self._remote_key_sets]
