"""`_options` and `Settings`: every option validated at construction, naming the option."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from asgi_hasura_jwt import ConfigError, HasuraJWTMiddleware, Settings
from asgi_hasura_jwt._options import DEFAULT_JWKS_OPTIONS, JWKSOptions

from .conftest import HMAC_SECRET, SigningKey, call, echo_app, mint

HS = {"type": "HS256", "key": HMAC_SECRET}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # A string where a collection is expected is iterated character by character: "/" public.
        ({"public_paths": "/healthz"}, "public_paths: expected a list of strings, got str"),
        ({"public_paths": b"/healthz"}, "public_paths: expected a list of strings, got bytes"),
        ({"public_paths": 3}, "public_paths: expected a list of strings, got int"),
        ({"public_paths": ["/ok", 3]}, "public_paths: every entry must be a non-empty string"),
        ({"public_paths": [""]}, "public_paths: every entry must be a non-empty string"),
        ({"public_paths": ["healthz"]}, "public_paths: 'healthz' does not start with '/'"),
        ({"public_paths": ["*"]}, "public_paths: '*' does not start with '/'"),
        ({"allowed_origins": "https://a.example"}, "allowed_origins: expected a list of strings"),
        ({"allowed_origins": [None]}, "allowed_origins: every entry must be a non-empty string"),
        ({"allowed_origins": ["a.example"]}, "allowed_origins: not a scheme://host"),
        ({"authorized_parties": "https://a"}, "authorized_parties: expected a list of strings"),
        ({"authorized_parties": [b"https://a"]}, "authorized_parties: every entry must be a"),
        ({"max_token_bytes": 0}, "max_token_bytes: must be greater than 0"),
        ({"max_token_bytes": -1}, "max_token_bytes: must be greater than 0"),
        ({"max_token_bytes": 1.5}, "max_token_bytes: expected an integer, got float"),
        ({"max_token_bytes": True}, "max_token_bytes: expected an integer, got bool"),
        ({"max_token_bytes": "16384"}, "max_token_bytes: expected an integer, got str"),
        ({"token_cache_size": -1}, "token_cache_size: must be 0 or more"),
        ({"token_cache_size": None}, "token_cache_size: expected an integer, got NoneType"),
        ({"token_cache_bytes": -1}, "token_cache_bytes: must be 0 or more"),
        ({"token_cache_bytes": 2.0}, "token_cache_bytes: expected an integer, got float"),
        ({"jwks_fetch_timeout": 0}, "jwks_fetch_timeout: must be greater than 0"),
        ({"jwks_fetch_timeout": -5}, "jwks_fetch_timeout: must be greater than 0"),
        ({"jwks_fetch_timeout": "5"}, "jwks_fetch_timeout: expected a number of seconds, got str"),
        ({"jwks_fetch_timeout": float("nan")}, "jwks_fetch_timeout: expected a number of seconds"),
        ({"jwks_retry_interval": 0}, "jwks_retry_interval: must be greater than 0"),
        ({"jwks_retry_interval": True}, "jwks_retry_interval: expected a number of seconds"),
        ({"jwks_min_refresh_interval": 0}, "jwks_min_refresh_interval: must be greater than 0"),
        ({"jwks_min_refresh_interval": -1}, "jwks_min_refresh_interval: must be greater than 0"),
        ({"jwks_kid_cooldown": -0.5}, "jwks_kid_cooldown: must be 0 or more"),
        ({"jwks_kid_cooldown": None}, "jwks_kid_cooldown: expected a number of seconds"),
        ({"jwks_fallback_max_age": 0}, "jwks_fallback_max_age: must be greater than 0"),
        ({"jwks_fallback_max_age": -1}, "jwks_fallback_max_age: must be greater than 0"),
        ({"jwks_fallback_max_age": float("inf")}, "jwks_fallback_max_age: expected a number"),
        ({"jwks_required_at_startup": "false"}, "jwks_required_at_startup: expected True or"),
        ({"jwks_required_at_startup": 0}, "jwks_required_at_startup: expected True or False"),
        ({"errors_as_200": "false"}, "errors_as_200: expected True or False, got str"),
        ({"errors_as_200": 1}, "errors_as_200: expected True or False, got int"),
        ({"require_azp": "yes"}, "require_azp: expected True or False, got str"),
        ({"on_error": "handler"}, "on_error: expected a callable, got str"),
        ({"clock": 1700000000.0}, "clock: expected a callable, got float"),
        ({"clock": None}, "clock: expected a callable, got NoneType"),
        ({"http_client": httpx.Client()}, "http_client: expected an httpx.AsyncClient, got Client"),
        ({"http_client": "client"}, "http_client: expected an httpx.AsyncClient, got str"),
        ({"admin_secret": 1234}, "admin_secret: expected a string or None, got int"),
        ({"unauthorized_role": ["anonymous"]}, "unauthorized_role: expected a string or None"),
        ({"environ": [("A", "b")]}, "environ: expected a mapping, got list"),
        (
            {"websocket_default_protocol": "graphql-transport-ws"},
            "websocket_default_protocol: expected one of 'plain', 'graphql-ws',"
            " got 'graphql-transport-ws'",
        ),
        (
            {"websocket_default_protocol": "GRAPHQL-WS"},
            "websocket_default_protocol: expected one of 'plain', 'graphql-ws', got 'GRAPHQL-WS'",
        ),
        (
            {"websocket_default_protocol": None},
            "websocket_default_protocol: expected one of 'plain', 'graphql-ws', got NoneType",
        ),
        (
            {"websocket_default_protocol": ["graphql-ws"]},
            "websocket_default_protocol: expected one of 'plain', 'graphql-ws', got list",
        ),
    ],
)
def test_a_wrong_option_is_a_config_error_naming_it(options: dict[str, Any], message: str) -> None:
    # The jwks_* options are checked even though no config has a jwk_url.
    for build in (Settings, lambda **kw: HasuraJWTMiddleware(echo_app, **kw)):
        with pytest.raises(ConfigError, match=re.escape(message)):
            build(**{"jwt_secret": HS, "environ": {}, **options})


@pytest.mark.parametrize(
    "options",
    [
        {"jwks_kid_cooldown": 0},
        {"jwks_fallback_max_age": None},
        {"token_cache_size": 0, "token_cache_bytes": 0},
        {"public_paths": ("/a", "/b*"), "allowed_origins": {"https://app.example"}},
        {"authorized_parties": ["https://app.example"], "require_azp": True},
        {"on_error": lambda scope, error: None, "clock": lambda: 0.0},
        {"http_client": httpx.AsyncClient()},
        {"websocket_default_protocol": "plain"},
        {"websocket_default_protocol": "graphql-ws"},
    ],
)
def test_valid_edges_are_accepted(options: dict[str, Any]) -> None:
    assert isinstance(Settings(jwt_secret=HS, environ={}, **options), Settings)


def test_jwks_defaults_are_written_once() -> None:
    # The middleware's signature defaults are `JWKSOptions`' own.
    settings = Settings(jwt_secret=HS, environ={})
    assert settings.jwks == DEFAULT_JWKS_OPTIONS == JWKSOptions()
    assert (settings.jwks.min_refresh_interval, settings.jwks.fallback_max_age) == (1.0, 600.0)
    assert (settings.jwks.retry_interval, settings.jwks.kid_cooldown) == (60.0, 30.0)
    assert (settings.jwks.fetch_timeout, settings.jwks.required_at_startup) == (5.0, True)


def test_settings_read_the_environment_when_built() -> None:
    environ = {"HASURA_GRAPHQL_JWT_SECRET": '{"type":"HS256","key":"short"}'}
    with pytest.raises(ConfigError, match="Key size too small; should be atleast 32 characters"):
        Settings(environ=environ)
    with pytest.raises(ConfigError, match="no JWT secret"):
        Settings(environ={})


def test_settings_or_options_not_both() -> None:
    settings = Settings(jwt_secret=HS, environ={})
    with pytest.raises(ConfigError, match=r"settings: pass either settings= or options"):
        HasuraJWTMiddleware(echo_app, settings=settings, errors_as_200=True)
    with pytest.raises(ConfigError, match="settings: expected Settings, got dict"):
        HasuraJWTMiddleware(echo_app, settings={"jwt_secret": HS})  # type: ignore[arg-type]


def test_settings_keep_secrets_out_of_their_repr() -> None:
    settings = Settings(jwt_secret=HS, admin_secret="hunter2-admin", environ={})
    assert "hunter2" not in repr(settings)
    assert HMAC_SECRET not in repr(settings)


async def test_a_middleware_built_from_settings_authenticates(
    keys: dict[str, SigningKey],
) -> None:
    settings = Settings(jwt_secret=HS, public_paths=["/healthz"], environ={})

    def app(inner: Any) -> Any:
        return HasuraJWTMiddleware(inner, settings=settings)

    app._is_middleware_factory = True  # type: ignore[attr-defined]
    token = mint(keys["HS256"])
    result = await call(app, {"Authorization": f"Bearer {token}"})
    assert result.status == 200
    assert result.session["x-hasura-role"] == "user"
    public = await call(app, {}, path="/healthz")
    assert public.status == 200
    assert public.session is None
    refused = await call(app, {}, path="/")
    assert refused.error() == (
        400,
        "invalid-headers",
        "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
    )
