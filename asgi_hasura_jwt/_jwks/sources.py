"""Config → key source: a static key, or the one shared `RemoteKeySet` of its URL (spec 1.1, 4).

Configs that name the same ``jwk_url`` share its key set, and so its fetches and schedule.
"""

from __future__ import annotations

import httpx

from .._config import JWTConfig
from .._events import Events
from .._keys import KeySource, StaticKeys
from .._options import JWKSOptions
from .remote import RemoteKeySet


class KeySources:
    """The key source of each config: its static key, or the one `RemoteKeySet` of its URL.

    Configs that share a ``jwk_url`` share its key set, and so its fetches and schedule.
    """

    def __init__(
        self,
        options: JWKSOptions,
        *,
        http_client: httpx.AsyncClient | None = None,
        events: Events | None = None,
    ) -> None:
        self._options = options
        self._http_client = http_client
        self._events = events
        self.remote: dict[str, RemoteKeySet] = {}

    def __call__(self, config: JWTConfig) -> KeySource:
        if config.key is not None:
            return StaticKeys(config.key)
        assert config.jwk_url is not None  # parse_config: exactly one of key / jwk_url
        key_set = self.remote.get(config.jwk_url)
        if key_set is None:
            key_set = self.remote[config.jwk_url] = RemoteKeySet(
                config.jwk_url, self._options, http_client=self._http_client, events=self._events
            )
        return key_set
