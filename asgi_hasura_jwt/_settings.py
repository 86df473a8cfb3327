"""`Settings`: every option of the middleware, validated once (spec 0, 1).

The middleware's constructor builds a `Settings` (or takes one), so a wrong option is a
`ConfigError` naming it before any request is served. Frameworks such as Starlette and FastAPI
build middleware lazily, on the first request or lifespan event, where a server may swallow the
error; building `Settings` in the app factory moves the failure to startup.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import httpx

from ._config import JWTConfig, optional_setting, parse_configs
from ._errors import ConfigError
from ._events import EventHook
from ._http import ErrorHook
from ._names import ADMIN_SECRET_VARIABLE, UNAUTHORIZED_ROLE_VARIABLE
from ._options import (
    DEFAULT_CACHE_BYTES,
    DEFAULT_CACHE_ENTRIES,
    DEFAULT_MAX_TOKEN_BYTES,
    DEFAULT_REVOCATION_TTL,
    DEFAULT_WEBSOCKET_PROTOCOL,
    WEBSOCKET_DEFAULT_PROTOCOLS,
    JWKSOptions,
    callable_or_none,
    callables,
    choice,
    count,
    flag,
    optional_text,
    seconds,
    strings,
)
from ._options import (
    DEFAULT_JWKS_OPTIONS as DEFAULTS,
)
from ._revocation import RevocationStore, revocation_store
from ._types import Clock
from ._websocket.origins import normalise_origin


class Settings:
    """The middleware's configuration, parsed and validated once.

    Takes exactly the middleware's keyword options (``HasuraJWTMiddleware(app, **options)`` is
    ``HasuraJWTMiddleware(app, settings=Settings(**options))``). The environment is read here,
    when an argument is ``None``. Raises `ConfigError`, naming the option, for any problem: call
    it in an app factory so that a bad ``HASURA_GRAPHQL_JWT_SECRET`` stops the server at startup.
    """

    __slots__ = (
        "admin_secret",
        "allowed_origins",
        "authorized_parties",
        "clock",
        "configs",
        "errors_as_200",
        "http_client",
        "jwks",
        "max_token_bytes",
        "on_error",
        "on_event",
        "public_exact",
        "public_prefixes",
        "require_azp",
        "revocation_ttl",
        "revocations",
        "token_cache_bytes",
        "token_cache_size",
        "unauthorized_role",
        "websocket_default_protocol",
    )

    def __init__(
        self,
        *,
        jwt_secret: Any = None,
        admin_secret: str | None = None,
        unauthorized_role: str | None = None,
        jwks_min_refresh_interval: float = DEFAULTS.min_refresh_interval,
        jwks_fallback_max_age: float | None = DEFAULTS.fallback_max_age,
        jwks_retry_interval: float = DEFAULTS.retry_interval,
        jwks_kid_cooldown: float = DEFAULTS.kid_cooldown,
        jwks_fetch_timeout: float = DEFAULTS.fetch_timeout,
        jwks_required_at_startup: bool = DEFAULTS.required_at_startup,
        http_client: httpx.AsyncClient | None = None,
        public_paths: Collection[str] = (),
        errors_as_200: bool = False,
        on_error: ErrorHook | None = None,
        on_event: EventHook | Sequence[EventHook] | None = None,
        authorized_parties: Collection[str] | None = None,
        require_azp: bool = False,
        allowed_origins: Collection[str] = (),
        websocket_default_protocol: str = DEFAULT_WEBSOCKET_PROTOCOL,
        max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES,
        token_cache_size: int = DEFAULT_CACHE_ENTRIES,
        token_cache_bytes: int = DEFAULT_CACHE_BYTES,
        revocations: str | RevocationStore | None = None,
        revocation_ttl: float = DEFAULT_REVOCATION_TTL,
        clock: Clock = time.time,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if environ is not None and not isinstance(environ, Mapping):
            raise ConfigError(f"environ: expected a mapping, got {type(environ).__name__}")
        self.configs: tuple[JWTConfig, ...] = tuple(parse_configs(jwt_secret, environ))
        self.admin_secret = optional_setting(
            optional_text("admin_secret", admin_secret), ADMIN_SECRET_VARIABLE, environ
        )
        self.unauthorized_role = optional_setting(
            optional_text("unauthorized_role", unauthorized_role),
            UNAUTHORIZED_ROLE_VARIABLE,
            environ,
        )
        self.jwks = JWKSOptions(
            min_refresh_interval=jwks_min_refresh_interval,
            fallback_max_age=jwks_fallback_max_age,
            retry_interval=jwks_retry_interval,
            kid_cooldown=jwks_kid_cooldown,
            fetch_timeout=jwks_fetch_timeout,
            required_at_startup=jwks_required_at_startup,
        )
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ConfigError(
                f"http_client: expected an httpx.AsyncClient, got {type(http_client).__name__}"
            )
        self.http_client = http_client
        paths = strings("public_paths", public_paths)
        for path in paths:
            if not path.startswith("/"):
                raise ConfigError(f"public_paths: {path!r} does not start with '/'")
        self.public_exact = frozenset(path for path in paths if not path.endswith("*"))
        self.public_prefixes = tuple(path[:-1] for path in paths if path.endswith("*"))
        self.errors_as_200 = flag("errors_as_200", errors_as_200)
        self.on_error = callable_or_none("on_error", on_error)
        self.on_event: tuple[EventHook, ...] = callables("on_event", on_event)
        self.authorized_parties = (
            None
            if authorized_parties is None
            else frozenset(strings("authorized_parties", authorized_parties))
        )
        self.require_azp = flag("require_azp", require_azp)
        self.allowed_origins = frozenset(
            _origin(origin) for origin in strings("allowed_origins", allowed_origins)
        )
        self.websocket_default_protocol = choice(
            "websocket_default_protocol", websocket_default_protocol, WEBSOCKET_DEFAULT_PROTOCOLS
        )
        self.max_token_bytes = count("max_token_bytes", max_token_bytes, positive=True)
        self.token_cache_size = count("token_cache_size", token_cache_size, positive=False)
        self.token_cache_bytes = count("token_cache_bytes", token_cache_bytes, positive=False)
        self.revocations = revocation_store(revocations)
        self.revocation_ttl = seconds("revocation_ttl", revocation_ttl, positive=True)
        if not callable(clock):
            raise ConfigError(f"clock: expected a callable, got {type(clock).__name__}")
        self.clock = clock


def _origin(origin: str) -> str:
    normalised = normalise_origin(origin)
    if normalised is None:
        raise ConfigError(f"allowed_origins: not a scheme://host[:port] origin: {origin!r}")
    return normalised[0]
