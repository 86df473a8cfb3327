"""Hasura's authentication webhook, answered by the middleware's core (pure ASGI).

Hasura CE cannot have several issuers, Clerk's ``azp`` check or a JWT-or-webhook chain in its
JWT mode, but it can delegate authentication to a webhook (``HASURA_GRAPHQL_AUTH_HOOK``):
`create_app` is that webhook, with every option of the middleware. ``asgi-hasura-jwt serve``
runs it under uvicorn.
"""

from __future__ import annotations

from typing import Any

from .._core import Core, resolve_settings
from .._errors import ConfigError
from .._options import optional_text, seconds
from .._settings import Settings
from ._app import AUTH_PATH, WebhookApp
from ._fallback import Fallback
from ._metrics import metrics_for

__all__ = ["AUTH_PATH", "WebhookApp", "create_app"]

DEFAULT_FALLBACK_TIMEOUT = 5.0


def create_app(
    *,
    settings: Settings | None = None,
    fallback_webhook: str | None = None,
    fallback_timeout: float = DEFAULT_FALLBACK_TIMEOUT,
    registry: Any = None,
    **options: Any,
) -> WebhookApp:
    """The auth webhook as an ASGI app; ``options`` (or ``settings=``) are the middleware's.

    ``fallback_webhook``: an http(s) URL that requests no config takes up (no token, another
    scheme, an unreadable token, a foreign issuer) are forwarded to, in the same mode, waiting
    at most ``fallback_timeout`` seconds. ``registry``: the prometheus_client
    ``CollectorRegistry`` that ``/metrics`` exposes (default: a new one per app; the extra must
    be installed to pass one). The middleware's HTTP-answer options (``public_paths``,
    ``errors_as_200``, ``on_error``, ``allowed_origins``) mean nothing here and are refused.
    Raises `ConfigError` naming the option.
    """
    settings = resolve_settings(settings, options)
    for name, value in (
        ("public_paths", settings.public_exact or settings.public_prefixes),
        ("errors_as_200", settings.errors_as_200),
        ("on_error", settings.on_error),
        ("allowed_origins", settings.allowed_origins),
    ):
        if value:
            raise ConfigError(f"{name}: a middleware option, which the webhook does not take")
    url = optional_text("fallback_webhook", fallback_webhook)
    timeout = seconds("fallback_timeout", fallback_timeout, positive=True)
    fallback = (
        None if url is None else Fallback(url, timeout=timeout, http_client=settings.http_client)
    )
    metrics = metrics_for(registry)
    core = Core(settings, hooks=() if metrics is None else (metrics.sink,))
    return WebhookApp(core, fallback=fallback, metrics=metrics)
