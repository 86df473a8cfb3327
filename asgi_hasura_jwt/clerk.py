"""Clerk helpers for apps: the Hasura JWT config of a Clerk instance (spec 6).

``print(json.dumps(jwt_secret("https://clerk.example.com", token="session")))`` gives a value
for ``HASURA_GRAPHQL_JWT_SECRET`` that Hasura and the middleware both read: Hasura ignores the
``"clerk"`` object, the middleware applies Clerk's token rules from it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ._clerk import check_pending, check_token_kind
from ._config import parse_config
from ._errors import ConfigError

__all__ = ["jwt_secret"]


def jwt_secret(
    frontend_api: str,
    *,
    token: str = "template",  # noqa: S107 - a token kind, not a secret
    pending: str = "signed_out",
) -> dict[str, Any]:
    """The config for a Clerk instance whose Frontend API is ``frontend_api``.

    Keys come from ``<frontend_api>/.well-known/jwks.json``, ``issuer`` is ``frontend_api`` (a
    trailing slash removed: Clerk's ``iss`` has none), and the ``"clerk"`` object holds
    ``token`` (``"template"``: tokens of a JWT template; ``"session"``: Clerk's session tokens,
    mapped without a template) and ``pending`` (``"signed_out"`` or ``"allow"``). The result is
    plain JSON data. Raises `ConfigError` for a frontend_api that is not an http(s) URL with a
    host and nothing after its path, or an unknown ``token`` / ``pending``.
    """
    issuer = _frontend_api(frontend_api)
    config = {
        "jwk_url": f"{issuer}/.well-known/jwks.json",
        "issuer": issuer,
        "clerk": {"token": check_token_kind(token), "pending": check_pending(pending)},
    }
    parse_config(config)  # the same validation as the middleware's, so it never refuses it
    return config


def _frontend_api(url: Any) -> str:
    problem = "frontend_api: expected an http(s) URL such as https://clerk.example.com"
    if not isinstance(url, str) or url != url.strip() or not url.isprintable():
        raise ConfigError(problem)
    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("https", "http") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # an invalid port or IPv6 literal
        valid = False
    if not valid or parts.query or parts.fragment or "?" in url or "#" in url or "@" in url:
        raise ConfigError(problem)
    return url.rstrip("/")
