"""`Settings` → the authenticator and what runs beside it, built one way for every front end.

The middleware and the auth webhook both authenticate with this `Core`, so an option means the
same in both and neither has a copy of the wiring: the event hooks, the revocation list, the
key sources, the `Authenticator`, and the background tasks the lifespan owns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ._auth import Authenticator
from ._errors import ConfigError
from ._events import EventHook, Events
from ._jwks import JWKSStatus, KeySources, RemoteKeySet
from ._jwks.lifespan import Background
from ._revocation import Revocations
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
    """The `Authenticator` of one `Settings`, its hooks and revocations, and the background
    tasks (JWKS refreshers, the revocation subscriber) its lifespan runs."""

    __slots__ = (
        "authenticator",
        "background",
        "events",
        "remote_key_sets",
        "revocations",
        "settings",
    )

    def __init__(self, settings: Settings, *, hooks: Sequence[EventHook] = ()) -> None:
        """``hooks`` are called after the ``on_event`` ones (the webhook's own metrics)."""
        self.settings = settings
        self.events = events = Events.of((*settings.on_event, *hooks))
        self.revocations = Revocations(
            ttl=settings.revocation_ttl, store=settings.revocations, clock=settings.clock
        )
        key_sources = KeySources(settings.jwks, http_client=settings.http_client, events=events)
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
            revocations=self.revocations.list,
        )
        # Filled by the Authenticator above, which asks for every config's key source.
        self.remote_key_sets: list[RemoteKeySet] = list(key_sources.remote.values())
        self.background: list[Background] = [*self.remote_key_sets]
        if settings.revocations is not None:
            self.background.append(self.revocations)

    def jwks_status(self) -> list[JWKSStatus]:
        """The state of every remote key set, for a health endpoint (spec 4.3)."""
        return [key_set.status() for key_set in self.remote_key_sets]
