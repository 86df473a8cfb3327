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
