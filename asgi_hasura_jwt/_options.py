"""Every option's default and range, written once; `Settings` and the modules call these.

Each validator raises `ConfigError` naming the option, so a wrong type never reaches a request
(a string where a list is expected, ``"false"`` for a flag: the classic ways to fail open).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ._errors import ConfigError

DEFAULT_MAX_TOKEN_BYTES = 16 * 1024
DEFAULT_CACHE_ENTRIES = 1024
DEFAULT_CACHE_BYTES = 4 * 1024 * 1024
# A Clerk webhook body (asgi_hasura_jwt.clerk.events_app); user objects carry up to 8 KB of
# metadata each, and Svix's messages are far below this.
DEFAULT_WEBHOOK_BODY_BYTES = 1 << 20
# How a websocket that offers no subprotocol at all is served: "plain" (ours) authenticates it
# at the handshake; "graphql-ws" reads it as the legacy GraphQL protocol, as Hasura does.
WEBSOCKET_DEFAULT_PROTOCOLS = ("plain", "graphql-ws")
DEFAULT_WEBSOCKET_PROTOCOL = "plain"
# How long a revocation lives before any token's lifetime is known, and at most (a day).
DEFAULT_REVOCATION_TTL = 24 * 3600.0


def seconds(name: str, value: Any, *, positive: bool) -> float:
    """A finite number of seconds, ``> 0`` when ``positive`` else ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name}: expected a number of seconds, got {type(value).__name__}")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{name}: must be {'greater than 0' if positive else '0 or more'}")
    return float(value)


def count(name: str, value: Any, *, positive: bool) -> int:
    """A whole number, ``> 0`` when ``positive`` else ``>= 0``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < 0 or (positive and value == 0):
        raise ConfigError(f"{name}: must be {'greater than 0' if positive else '0 or more'}")
    return value


def flag(name: str, value: Any) -> bool:
    # "false" is truthy: a string here would turn a safety switch on or off by accident.
    if not isinstance(value, bool):
        raise ConfigError(f"{name}: expected True or False, got {type(value).__name__}")
    return value


def strings(name: str, value: Any) -> tuple[str, ...]:
    """A collection of non-empty strings; a lone string would be read character by character."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Collection):
        raise ConfigError(f"{name}: expected a list of strings, got {type(value).__name__}")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ConfigError(f"{name}: every entry must be a non-empty string, got {item!r}")
    return items


def optional_text(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{name}: expected a string or None, got {type(value).__name__}")
    return value


def choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """One of ``choices``, exactly (no case folding: a near miss is a typo, not a choice)."""
    if not isinstance(value, str) or value not in choices:
        got = repr(value) if isinstance(value, str) else type(value).__name__
        raise ConfigError(f"{name}: expected one of {', '.join(map(repr, choices))}, got {got}")
    return value


def callable_or_none(name: str, value: Any) -> Any:
    if value is not None and not callable(value):
        raise ConfigError(f"{name}: expected a callable, got {type(value).__name__}")
    return value


def callables(name: str, value: Any) -> tuple[Any, ...]:
    """``None``, one callable, or a list or tuple of them; always a tuple."""
    if value is None:
        return ()
    if callable(value):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise ConfigError(
            f"{name}: expected a callable or a list of callables, got {type(value).__name__}"
        )
    for item in value:
        if not callable(item):
            raise ConfigError(f"{name}: every entry must be callable, got {type(item).__name__}")
    return tuple(value)


@dataclass(frozen=True)
class JWKSOptions:
    """How remote key sets are fetched and refreshed (spec 4.3); validated on creation."""

    min_refresh_interval: float = 1.0
    fallback_max_age: float | None = 600.0
    retry_interval: float = 60.0
    kid_cooldown: float = 30.0
    fetch_timeout: float = 5.0
    required_at_startup: bool = True

    def __post_init__(self) -> None:
        checked = {
            "min_refresh_interval": seconds(
                "jwks_min_refresh_interval", self.min_refresh_interval, positive=True
            ),
            "fallback_max_age": None
            if self.fallback_max_age is None
            else seconds("jwks_fallback_max_age", self.fallback_max_age, positive=True),
            "retry_interval": seconds("jwks_retry_interval", self.retry_interval, positive=True),
            "kid_cooldown": seconds("jwks_kid_cooldown", self.kid_cooldown, positive=False),
            "fetch_timeout": seconds("jwks_fetch_timeout", self.fetch_timeout, positive=True),
            "required_at_startup": flag("jwks_required_at_startup", self.required_at_startup),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)


DEFAULT_JWKS_OPTIONS = JWKSOptions()
MAX_JWKS_BYTES = 1 << 20  # spec 4.1: a JWKS body over 1 MiB is a failed fetch
