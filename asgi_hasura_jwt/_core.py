"""`Settings` → the key sources and the `Authenticator`, built one way for every front end.

The middleware and the auth webhook both authenticate with this `Core`, so an option means the
same in both and neither has a copy of the wiring.
"""

from __future__ import annotations

from typing import Any

from ._auth import Authenticator
from ._errors import ConfigError
from ._jwks import JWKSStatus, KeySources, RemoteKeySet
from ._settings import Settings


def resolve_settings(settings: Settings | None, options: dict[str, Any]) -> Settings:
    """``settings`` when given, else ``Settings(**options)``; both at once is a `ConfigError`."""
    if settings is None:
        return Settings(**options)
    if options:
        raise ConfigError(
            f"settings: pass either settings= or options, not both (got {sorted(options)})"
        )
    if not isinstance(settings, Settings):
        raise ConfigError(f"settings: expected Settings, got {type(settings).__name__}")
    return settings


class Core:
    """The `Authenticator` of one `Settings`, and the remote key sets its lifespan refreshes."""

    __slots__ = ("authenticator", "remote_key_sets", "settings")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        key_sources = KeySources(settings.jwks, http_client=settings.http_client)
        self.authenticator = Authenticator(
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
        # Filled by the Authenticator above, which asks for every config's key source.
        self.remote_key_sets: list[RemoteKeySet] = list(key_sources.remote.values())

    def jwks_status(self) -> list[JWKSStatus]:
        """The state of every remote key set, for a health endpoint (spec 4.3)."""
        return [key_set.status() for key_set in self.remote_key_sets]
