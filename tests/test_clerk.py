"""Spec 6 with a real token issued by a Clerk instance (tests/data/clerk, see its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from asgi_hasura_jwt._keys import key_from_jwk

from .conftest import call, middleware

FIXTURE = json.loads((Path(__file__).parent / "data" / "clerk" / "session_token.json").read_text())
TOKEN = FIXTURE["token"]
AZP = "https://accounts.inspired.puma-74.lcl.dev"
ISSUER = "https://clerk.inspired.puma-74.lcl.dev"
DURING_LIFETIME = 1666648300.0  # between the token's iat (…250) and exp (…310)


def clerk_pem() -> str:
    key = key_from_jwk(FIXTURE["jwks"]["keys"][0])
    assert not isinstance(key, str)
    return key.key.raw_value.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


# Clerk's default session token carries no Hasura namespace: a claims_map builds the session.
CONFIG = {
    "type": "RS256",
    "key": clerk_pem(),
    "issuer": ISSUER,
    "claims_map": {
        "x-hasura-allowed-roles": ["user"],
        "x-hasura-default-role": "user",
        "x-hasura-user-id": {"path": "$.sub"},
        "x-hasura-session-id": {"path": "$.sid"},
    },
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_real_clerk_token_verifies() -> None:
    result = await call(middleware(jwt_secret=CONFIG, clock=lambda: DURING_LIFETIME), bearer(TOKEN))
    assert result.status == 200, result.body
    assert dict(result.session) == {
        "x-hasura-user-id": "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr",
        "x-hasura-session-id": "sess_2GbDB4enNdCa5vS1zpC3Xzg9tK9",
        "x-hasura-role": "user",
    }
    assert result.session.expires_at == 1666648310.0


async def test_real_clerk_token_is_expired_today() -> None:
    result = await call(middleware(jwt_secret=CONFIG), bearer(TOKEN))
    assert result.error() == (400, "invalid-jwt", "Could not verify JWT: JWTExpired")


async def test_tampered_clerk_token() -> None:
    result = await call(
        middleware(jwt_secret=CONFIG, clock=lambda: DURING_LIFETIME),
        bearer(FIXTURE["tampered_token"]),
    )
    assert result.error() == (
        400,
        "invalid-jwt",
        "Could not verify JWT: JWSError JWSInvalidSignature",
    )


async def test_clerk_session_cookie() -> None:
    config = {**CONFIG, "header": {"type": "Cookie", "name": "__session"}}
    result = await call(
        middleware(jwt_secret=config, clock=lambda: DURING_LIFETIME),
        {"Cookie": f"__client_uat=1666648250; __session={TOKEN}"},
    )
    assert result.status == 200
    assert result.session["x-hasura-user-id"] == "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr"


@pytest.mark.parametrize(
    ("options", "token", "expected"),
    [
        ({"authorized_parties": [AZP]}, TOKEN, None),
        ({"authorized_parties": ["https://app.example", AZP]}, TOKEN, None),
        (
            {"authorized_parties": ["https://app.example"]},
            TOKEN,
            "JWTNotInAuthorizedParties: azp is not an authorized party",
        ),
        (
            {"authorized_parties": []},
            TOKEN,
            "JWTNotInAuthorizedParties: azp is not an authorized party",
        ),
    ],
)
async def test_authorized_parties(
    options: dict[str, Any], token: str, expected: str | None
) -> None:
    app = middleware(jwt_secret=CONFIG, clock=lambda: DURING_LIFETIME, **options)
    result = await call(app, bearer(token))
    if expected is None:
        assert result.status == 200, result.body
    else:
        assert result.error() == (400, "invalid-jwt", f"Could not verify JWT: {expected}")


@pytest.mark.parametrize(
    ("azp", "require_azp", "expected"),
    [
        (None, False, None),  # Clerk's SDK lets tokens without azp through
        (None, True, "JWTMissingAuthorizedParty: the token has no azp claim"),
        (7, False, "JWTNotInAuthorizedParties: azp is not an authorized party"),
        ("https://app.example", True, None),
    ],
)
async def test_tokens_without_azp(
    keys: Any, azp: Any, require_azp: bool, expected: str | None
) -> None:
    from .conftest import mint, payload

    claims = payload() if azp is None else payload(azp=azp)
    app = middleware(
        jwt_secret=keys["RS256"].config,
        authorized_parties=["https://app.example"],
        require_azp=require_azp,
    )
    result = await call(app, bearer(mint(keys["RS256"], claims)))
    if expected is None:
        assert result.status == 200, result.body
    else:
        assert result.error() == (400, "invalid-jwt", f"Could not verify JWT: {expected}")


# --- the real token under the "clerk" object (it predates cat and sts) -------------------------

CLERK_SESSION = {
    "type": "RS256",
    "key": clerk_pem(),
    "issuer": ISSUER,
    "header": {"type": "Cookie", "name": "__session"},
    "clerk": {"token": "session"},
}
IAT = 1666648250


@pytest.mark.parametrize(
    ("client_uat", "expected"),
    [
        (None, 200),
        (IAT, 200),
        (IAT - 3600, 200),
        (IAT + 1, "stale"),  # signed in again after the token was issued
        (0, "stale"),  # signed out
    ],
)
async def test_real_clerk_token_as_a_session_token(client_uat: int | None, expected: Any) -> None:
    # No claims_map: the default session mapping (sub; the token has no organization).
    app = middleware(jwt_secret=CLERK_SESSION, clock=lambda: DURING_LIFETIME)
    uat = "" if client_uat is None else f"__client_uat={client_uat}; "
    result = await call(app, {"Cookie": f"{uat}__session={TOKEN}"})
    if expected == 200:
        assert result.status == 200, result.body
        assert dict(result.session) == {
            "x-hasura-user-id": "user_2GIpXOEpVyJw51rkZn9Kmnc6Sxr",
            "x-hasura-role": "user",
        }
        assert result.session.claims["sid"] == "sess_2GbDB4enNdCa5vS1zpC3Xzg9tK9"
        assert result.session.claims["azp"] == AZP
    else:
        assert result.error() == (
            400,
            "invalid-headers",
            "Clerk session is stale: signed out or signed in again elsewhere (__client_uat)",
        )


@pytest.mark.parametrize(
    ("clerk", "expected"),
    [
        ({"token": "template"}, None),  # no cat: older tokens of either kind pass
        ({"token": "session", "pending": "allow"}, None),
    ],
)
async def test_real_clerk_token_passes_the_kind_checks(
    clerk: dict[str, str], expected: str | None
) -> None:
    config = {**CONFIG, "clerk": clerk}
    result = await call(middleware(jwt_secret=config, clock=lambda: DURING_LIFETIME), bearer(TOKEN))
    assert result.status == 200, result.body
    assert result.session["x-hasura-session-id"] == "sess_2GbDB4enNdCa5vS1zpC3Xzg9tK9"


async def test_real_clerk_token_tampered_under_the_clerk_object() -> None:
    result = await call(
        middleware(jwt_secret=CLERK_SESSION, clock=lambda: DURING_LIFETIME),
        {"Cookie": f"__client_uat=0; __session={FIXTURE['tampered_token']}"},
    )
    # Invalid, so never "signed out" (spec 7.9), whatever __client_uat says.
    assert result.error() == (
        400,
        "invalid-jwt",
        "Could not verify JWT: JWSError JWSInvalidSignature",
    )


# --- asgi_hasura_jwt.clerk.jwt_secret ---------------------------------------------------------


@pytest.mark.parametrize(
    ("frontend_api", "issuer"),
    [
        ("https://clerk.example.com", "https://clerk.example.com"),
        ("https://clerk.example.com/", "https://clerk.example.com"),
        ("https://happy-hippo-1.clerk.accounts.dev", "https://happy-hippo-1.clerk.accounts.dev"),
        ("https://app.example.com/__clerk/", "https://app.example.com/__clerk"),  # a proxy
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787"),  # a local issuer
    ],
)
def test_jwt_secret(frontend_api: str, issuer: str) -> None:
    from asgi_hasura_jwt.clerk import jwt_secret

    config = jwt_secret(frontend_api)
    assert config == {
        "jwk_url": f"{issuer}/.well-known/jwks.json",
        "issuer": issuer,
        "clerk": {"token": "template", "pending": "signed_out"},
    }
    assert json.loads(json.dumps(config)) == config


def test_jwt_secret_serves_the_environment_variable() -> None:
    from asgi_hasura_jwt import HasuraJWTMiddleware
    from asgi_hasura_jwt._config import parse_configs
    from asgi_hasura_jwt.clerk import jwt_secret

    from .conftest import echo_app

    text = json.dumps(jwt_secret(ISSUER, token="session", pending="allow"))
    (config,) = parse_configs(None, {"HASURA_GRAPHQL_JWT_SECRET": text})
    assert (config.jwk_url, config.issuer) == (f"{ISSUER}/.well-known/jwks.json", ISSUER)
    assert config.clerk is not None
    assert (config.clerk.kind, config.clerk.allow_pending) == ("session", True)
    HasuraJWTMiddleware(echo_app, environ={"HASURA_GRAPHQL_JWT_SECRET": text})


@pytest.mark.parametrize(
    "frontend_api",
    [
        "clerk.example.com",
        "ftp://clerk.example.com",
        "https://",
        "https:///path",
        "https://clerk.example.com?x=1",
        "https://clerk.example.com#x",
        "https://user@clerk.example.com",
        "https://clerk.example.com:99999",
        " https://clerk.example.com",
        "https://clerk.example.com\n",
        None,
        b"https://clerk.example.com",
    ],
)
def test_jwt_secret_refuses_bad_urls(frontend_api: Any) -> None:
    from asgi_hasura_jwt import ConfigError
    from asgi_hasura_jwt.clerk import jwt_secret

    with pytest.raises(ConfigError) as raised:
        jwt_secret(frontend_api)
    assert str(raised.value) == (
        "frontend_api: expected an http(s) URL such as https://clerk.example.com"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"token": "m2m"}, "clerk: token must be 'template' or 'session'"),
        ({"pending": "deny"}, "clerk: pending must be 'signed_out' or 'allow'"),
    ],
)
def test_jwt_secret_refuses_bad_options(options: dict[str, Any], message: str) -> None:
    from asgi_hasura_jwt import ConfigError
    from asgi_hasura_jwt.clerk import jwt_secret

    with pytest.raises(ConfigError) as raised:
        jwt_secret("https://clerk.example.com", **options)
    assert str(raised.value) == message
