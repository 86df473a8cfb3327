"""Spec 1: config parsing, its error messages and their order (1.3), the environment (0)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from asgi_hasura_jwt._config import optional_setting, parse_config, parse_configs
from asgi_hasura_jwt._errors import ConfigError

from .conftest import HMAC_SECRET

PATH_TAIL = (
    ". Accept letters, digits, underscore (_) or hyphen (-) only. Use quotes enclosed in bracket"
    ' (["..."]) if there is any special character'
)
HS = {"type": "HS256", "key": HMAC_SECRET}
ROLES_MAP = {
    "x-hasura-allowed-roles": ["user"],
    "x-hasura-default-role": "user",
}


def config_error(raw: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert isinstance(caught.value, ValueError)
    return str(caught.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(
            {**HS, "claims_namespace": "a", "claims_namespace_path": "$.a"},
            "claims_namespace and claims_namespace_path both cannot be set",
            id="1-namespace-and-path",
        ),
        pytest.param(
            {**HS, "claims_namespace_path": "$..a"},
            f"invalid JSON path claims_namespace_path error: $..a{PATH_TAIL}",
            id="2-bad-namespace-path",
        ),
        pytest.param({}, "key and jwk_url both cannot be empty", id="3-no-key"),
        pytest.param(
            {**HS, "jwk_url": "https://x/jwks"}, "key, jwk_url both cannot be present", id="4-both"
        ),
        pytest.param({"key": HMAC_SECRET}, 'key "type" not found', id="5-no-type"),
        pytest.param(
            {"type": "hs256", "key": HMAC_SECRET},
            "Invalid JWK: Key type: hs256 is not supported",
            id="5-type-case-sensitive",
        ),
        pytest.param(
            {"type": "PS256", "key": HMAC_SECRET},
            "Invalid JWK: Key type: PS256 is not supported",
            id="5-unknown-type",
        ),
        pytest.param(
            {"type": "HS256", "key": "x" * 31},
            "Invalid JWK: Key size too small; should be atleast 32 characters",
            id="6-hs256-short",
        ),
        pytest.param(
            {"type": "HS384", "key": "x" * 47},
            "Invalid JWK: Key size too small; should be atleast 48 characters",
            id="6-hs384-short",
        ),
        pytest.param(
            {"type": "HS512", "key": "x" * 63},
            "Invalid JWK: Key size too small; should be atleast 64 characters",
            id="6-hs512-short",
        ),
        pytest.param(
            {"type": "RS256", "key": "not a pem"}, "Invalid JWK: Could not decode PEM", id="7-pem"
        ),
        pytest.param(
            {
                "type": "RS256",
                "key": "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            },
            "Invalid JWK: Could not decode PEM",
            id="7-garbled-pem",
        ),
        pytest.param(
            {**HS, "claims_format": "yaml"},
            "claims_format: expected 'json' or 'stringified_json'",
            id="8-claims-format",
        ),
        pytest.param(
            {**HS, "header": {"type": "Query"}},
            "expected 'type' is 'Authorization' or 'Cookie' or 'CustomHeader'",
            id="8-header-type",
        ),
        pytest.param({**HS, "header": {"type": "Cookie"}}, 'key "name" not found', id="8-cookie"),
        pytest.param(
            {**HS, "header": {"type": "customheader"}}, 'key "name" not found', id="8-custom"
        ),
        pytest.param(
            {**HS, "claims_map": {"x-hasura-default-role": "user"}},
            "x-hasura-allowed-roles is expected but not found",
            id="9-map-no-allowed",
        ),
        pytest.param(
            {**HS, "claims_map": {"x-hasura-allowed-roles": ["user"]}},
            "x-hasura-default-role is expected but not found",
            id="9-map-no-default",
        ),
        pytest.param(
            {**HS, "claims_map": {**ROLES_MAP, "x-hasura-allowed-roles": ["user", ""]}},
            "claims_map: invalid value for x-hasura-allowed-roles: empty string not allowed",
            id="9-map-empty-role",
        ),
        pytest.param(
            {**HS, "claims_map": {**ROLES_MAP, "x-hasura-allowed-roles": "user"}},
            "claims_map: invalid value for x-hasura-allowed-roles: parsing [] failed, expected"
            " Array, but encountered String",
            id="9-map-roles-string",
        ),
        pytest.param(
            {**HS, "claims_map": {**ROLES_MAP, "x-hasura-default-role": 3}},
            "claims_map: invalid value for x-hasura-default-role: parsing Text failed, expected"
            " String, but encountered Number",
            id="9-map-default-number",
        ),
        pytest.param(
            {
                **HS,
                "claims_map": {
                    **ROLES_MAP,
                    "x-hasura-default-role": {"path": "$.role", "default": ""},
                },
            },
            "claims_map: invalid value for x-hasura-default-role: empty string not allowed",
            id="9-map-default-default-empty",
        ),
        pytest.param(
            {**HS, "audience": 3}, "audience: expected a string or a list of strings", id="10-aud"
        ),
        pytest.param(
            {**HS, "audience": ["a", 1]},
            "audience: expected a string or a list of strings",
            id="10-aud-list",
        ),
        pytest.param({**HS, "issuer": ["a"]}, "issuer: expected a string", id="10-issuer"),
        pytest.param(
            {**HS, "allowed_skew": "5"}, "allowed_skew: expected a number", id="10-skew-string"
        ),
        pytest.param(
            {**HS, "allowed_skew": True}, "allowed_skew: expected a number", id="10-skew-bool"
        ),
        pytest.param(
            {**HS, "allowed_skew": float("nan")}, "allowed_skew: expected a number", id="10-nan"
        ),
        pytest.param(
            {**HS, "claims_map": {**ROLES_MAP, "x-hasura-user-id": {"path": "$.a[*]"}}},
            f"invalid JSON path claims_map error: $.a[*]{PATH_TAIL}",
            id="11-map-path",
        ),
        pytest.param(
            {**HS, "claims_map": {**ROLES_MAP, "user-id": "x"}},
            "claims_map: user-id does not start with x-hasura-",
            id="11-map-prefix",
        ),
        pytest.param(
            {**HS, "claims_map": {**ROLES_MAP, "x-hasura-org": "a", "X-Hasura-Org": "b"}},
            "claims_map: x-hasura-org is given more than once",
            id="11-map-repeat",
        ),
        pytest.param(
            {**HS, "claims_map": {**ROLES_MAP, "x-hasura-org": 5}},
            "claims_map: the value of x-hasura-org must be a non-empty string",
            id="11-map-literal-number",
        ),
        pytest.param(
            {**HS, "claims_map": {**ROLES_MAP, "x-hasura-org": {"default": "a"}}},
            'claims_map: x-hasura-org: key "path" not found',
            id="11-map-no-path",
        ),
        pytest.param(
            {**HS, "jwk_url": None, "key": None, "type": "HS256"},
            "key and jwk_url both cannot be empty",
            id="3-nulls",
        ),
        pytest.param({"jwk_url": "ftp://x"}, "jwk_url: expected an http(s) URL", id="jwk-url"),
        pytest.param([HS], "JWT config: expected a JSON object", id="not-object"),
        pytest.param("{", "jwt_secret is not valid JSON", id="not-json"),
    ],
)
def test_config_errors(raw: Any, message: str) -> None:
    assert message in config_error(raw)


@pytest.mark.parametrize(
    ("raw", "first"),
    [
        # Every field below is wrong; the order of spec 1.3 decides which one is reported.
        (
            {
                "claims_namespace": "a",
                "claims_namespace_path": "$..",
                "claims_format": "x",
                "header": {"type": "x"},
            },
            "claims_namespace and claims_namespace_path both cannot be set",
        ),
        (
            {"claims_namespace_path": "$..", "claims_format": "x", "header": {"type": "x"}},
            "invalid JSON path claims_namespace_path error: $..",
        ),
        ({"claims_format": "x", "audience": 1}, "key and jwk_url both cannot be empty"),
        ({"type": "HS256", "key": "short", "claims_format": "x"}, "Key size too small"),
        ({**HS, "claims_format": "x", "header": {"type": "x"}}, "claims_format"),
        ({**HS, "header": {"type": "x"}, "claims_map": {}}, "expected 'type' is"),
        ({**HS, "claims_map": {}, "audience": 1}, "x-hasura-allowed-roles is expected"),
        ({**HS, "audience": 1, "issuer": 1}, "audience"),
        (
            {**HS, "allowed_skew": "x", "claims_map": {**ROLES_MAP, "x-hasura-a": {"path": ""}}},
            "allowed_skew",
        ),
    ],
)
def test_config_error_order(raw: dict[str, Any], first: str) -> None:
    assert first in config_error(raw)


def test_private_key_pem_is_refused(keys: Any) -> None:
    from cryptography.hazmat.primitives import serialization

    private_pem = (
        keys["RS256"]
        .private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    message = config_error({"type": "RS256", "key": private_pem})
    assert message.startswith("Invalid JWK: Could not decode PEM")
    assert "MII" not in message  # no key material echoed


def test_defaults_and_accepted_forms() -> None:
    config = parse_config(json.dumps({**HS, "allowed_skew": -2.5}))
    assert config.allowed_skew == 2.5
    assert config.location.kind == "Authorization"
    assert config.issuer is None
    assert config.audience is None
    assert config.jwk_url is None
    header_as_text = parse_config({**HS, "header": '{"type":"cookie","name":"__session"}'})
    assert (header_as_text.location.kind, header_as_text.location.name) == ("Cookie", "__session")
    custom = parse_config({**HS, "header": {"type": "CUSTOMHEADER", "name": "X-Token"}})
    assert (custom.location.kind, custom.location.name) == ("CustomHeader", "x-token")
    assert parse_config({**HS, "audience": "a"}).audience == frozenset({"a"})
    assert parse_config({**HS, "audience": ["a", "b"]}).audience == frozenset({"a", "b"})
    remote = parse_config({"jwk_url": "https://example.test/jwks.json", "type": "nonsense"})
    assert remote.jwk_url == "https://example.test/jwks.json"
    assert remote.key is None
    assert parse_config({**HS, "unknown_field": 1}).key is not None


def test_claims_map_is_lower_cased_and_namespace_settings_still_validated() -> None:
    config = parse_config(
        {**HS, "claims_map": {"X-Hasura-Allowed-Roles": ["user"], "x-hasura-default-role": "user"}}
    )
    assert set(config.claims.entries) == {"x-hasura-allowed-roles", "x-hasura-default-role"}  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="claims_format"):
        parse_config({**HS, "claims_format": "x", "claims_map": ROLES_MAP})


ENV_SECRET = json.dumps(HS)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"HASURA_GRAPHQL_JWT_SECRET": ENV_SECRET}, 1),
        ({"HASURA_GRAPHQL_JWT_SECRETS": json.dumps([HS, HS])}, 2),
        (
            {
                "HASURA_GRAPHQL_JWT_SECRET": ENV_SECRET,
                "HASURA_GRAPHQL_JWT_SECRETS": f"[{ENV_SECRET}]",
            },
            1,
        ),
    ],
)
def test_environment(environ: dict[str, str], expected: int) -> None:
    assert len(parse_configs(None, environ)) == expected


@pytest.mark.parametrize(
    ("jwt_secret", "environ", "message"),
    [
        (None, {}, "no JWT secret: pass jwt_secret or set HASURA_GRAPHQL_JWT_SECRET"),
        (None, {"HASURA_GRAPHQL_JWT_SECRET": "{"}, "HASURA_GRAPHQL_JWT_SECRET is not valid JSON"),
        (None, {"HASURA_GRAPHQL_JWT_SECRETS": "x"}, "HASURA_GRAPHQL_JWT_SECRETS is not valid JSON"),
        (None, {"HASURA_GRAPHQL_JWT_SECRETS": ENV_SECRET}, "expected a JSON array"),
        ([], {}, "the list of configs is empty"),
        ("[{}]", {}, "key and jwk_url both cannot be empty"),
    ],
)
def test_environment_errors(jwt_secret: Any, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_configs(jwt_secret, environ)
    assert message in str(caught.value)


def test_argument_wins_over_environment() -> None:
    configs = parse_configs([HS, json.dumps(HS)], {"HASURA_GRAPHQL_JWT_SECRET": "{"})
    assert len(configs) == 2


def test_optional_settings_treat_empty_as_unset() -> None:
    assert optional_setting("", "X", {"X": "env"}) is None
    assert optional_setting(None, "X", {"X": ""}) is None
    assert optional_setting(None, "X", {"X": "env"}) == "env"
    assert optional_setting("arg", "X", {"X": "env"}) == "arg"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({**HS, "header": "{not json"}, "header: expected a JSON object"),
        ({**HS, "header": ["Authorization"]}, "header: expected a JSON object"),
        ({**HS, "header": {"type": "Cookie", "name": ""}}, "header: 'name' must be a non-empty"),
        ({**HS, "header": {"type": "Cookie", "name": 5}}, "header: 'name' must be a non-empty"),
        (
            {**HS, "header": {"type": "CustomHeader", "name": "X-Tōken"}},
            "header: 'name' must be a non-empty HTTP token",
        ),
        (
            {**HS, "header": {"type": "CustomHeader", "name": "X Token"}},
            "header: 'name' must be a non-empty HTTP token",
        ),
        (
            {**HS, "header": {"type": "Cookie", "name": "a=b"}},
            "header: 'name' must be a non-empty HTTP token",
        ),
        ({**HS, "claims_map": ["x-hasura-allowed-roles"]}, "claims_map: expected a JSON object"),
        ({**HS, "claims_namespace": 5}, "claims_namespace: expected a string"),
        (
            {**HS, "claims_namespace_path": 5},
            f"invalid JSON path claims_namespace_path error: 5{PATH_TAIL}",
        ),
    ],
)
def test_field_types(raw: dict[str, Any], message: str) -> None:
    assert message in config_error(raw)


def test_explicit_authorization_header_type() -> None:
    location = parse_config({**HS, "header": {"type": "AUTHORIZATION", "name": "ignored"}}).location
    assert (location.kind, location.name) == ("Authorization", "")
