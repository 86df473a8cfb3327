"""`HasuraJWTMiddleware`: the thin pure-ASGI class that wires the modules together."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

import httpx

from ._auth import DEFAULT_CACHE_BYTES, DEFAULT_CACHE_ENTRIES, Authenticator
from ._config import optional_setting, parse_configs
from ._errors import ConfigError, as_auth_error
from ._http import ErrorHook, respond
from ._jwks import JWKSStatus, KeySources
from ._lifespan import handle_lifespan
from ._session import SCOPE_KEY
from ._token import DEFAULT_MAX_TOKEN_BYTES
from ._types import ASGIApp, Clock, Receive, Scope, Send
from ._websocket import WebSocketAuth


class HasuraJWTMiddleware:
    """Authenticate ``http`` and ``websocket`` scopes like Hasura's JWT mode.

    All configuration is parsed and validated here; `ConfigError` (a ``ValueError``) is raised
    for any problem. ``None`` means "read the environment" for ``jwt_secret``,
    ``admin_secret`` and ``unauthorized_role``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        jwt_secret: Any = None,
        admin_secret: str | None = None,
        unauthorized_role: str | None = None,
        jwks_min_refresh_interval: float = 1.0,
        jwks_fallback_max_age: float | None = 600.0,
        jwks_retry_interval: float = 60.0,
        jwks_kid_cooldown: float = 30.0,
        jwks_fetch_timeout: float = 5.0,
        jwks_required_at_startup: bool = True,
        http_client: httpx.AsyncClient | None = None,
        public_paths: Collection[str] = (),
        errors_as_200: bool = False,
        on_error: ErrorHook | None = None,
        authorized_parties: Collection[str] | None = None,
        require_azp: bool = False,
        allowed_origins: Collection[str] = (),
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        token_cache_size: int = DEFAULT_CACHE_ENTRIES,
        token_cache_bytes: int = DEFAULT_CACHE_BYTES,
        clock: Clock = time.time,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        configs = parse_configs(jwt_secret, environ)
        if isinstance(authorized_parties, str):
            raise ConfigError("authorized_parties: expected a collection of origins, not a string")
        key_sources = KeySources(
            min_refresh_interval=jwks_min_refresh_interval,
            fallback_max_age=jwks_fallback_max_age,
            retry_interval=jwks_retry_interval,
            kid_cooldown=jwks_kid_cooldown,
            fetch_timeout=jwks_fetch_timeout,
            required_at_startup=jwks_required_at_startup,
            http_client=http_client,
        )
        self._authenticator = Authenticator(
            configs,
            key_sources,
            admin_secret=optional_setting(admin_secret, "HASURA_GRAPHQL_ADMIN_SECRET", environ),
            unauthorized_role=optional_setting(
                unauthorized_role, "HASURA_GRAPHQL_UNAUTHORIZED_ROLE", environ
            ),
            authorized_parties=authorized_parties,
            require_azp=require_azp,
            max_token_bytes=max_token_bytes,
            cache_entries=token_cache_size,
            cache_bytes=token_cache_bytes,
            clock=clock,
        )
        self._remote_key_sets = list(key_sources.remote.values())
        self._exact_public = frozenset(path for path in public_paths if not path.endswith("*"))
        self._public_prefixes = tuple(path[:-1] for path in public_paths if path.endswith("*"))
        self._errors_as_200 = errors_as_200
        self._on_error = on_error
        self._websocket = WebSocketAuth(
            app, self._authenticator, allowed_origins=allowed_origins, clock=clock
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
        authenticator = self._authenticator
        try:
            session = authenticator.cached_session(scope["headers"])
            if session is None:
                session = await authenticator.authenticate(scope["headers"])
        except Exception as exc:
            await respond(
                as_auth_error(exc),
                scope,
                receive,
                send,
                status_200=self._errors_as_200,
                on_error=self._on_error,
            )
            return
        scope[SCOPE_KEY] = session
        await self.app(scope, receive, send)

    def _is_public(self, path: str) -> bool:
        return path in self._exact_public or (
            bool(self._public_prefixes) and path.startswith(self._public_prefixes)
        )

    def jwks_status(self) -> list[JWKSStatus]:
        """The state of every remote key set, for a health endpoint (spec 4.3)."""
        return [key_set.status() for key_set in self._remote_key_sets]
