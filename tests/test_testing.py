"""`asgi_hasura_jwt.testing`: every key it makes verifies under the config (or JWK) it names,
and its tokens are exactly what it was asked to sign."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec

from asgi_hasura_jwt import HasuraJWTMiddleware
from asgi_hasura_jwt._keys import CONFIG_TYPES
from asgi_hasura_jwt.testing import (
    NAMESPACE,
    SigningKey,
    b64url,
    clerk_claims,
    hasura_claims,
    mint,
    registered_claims,
)

from .conftest import call, echo_app, middleware
from .servers import serve

ISSUER = "https://clerk.example.test"
AZP = "https://app.example.test"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(user_id: str = "user_1") -> dict[str, Any]:
    return clerk_claims(user_id=user_id, issuer=ISSUER, azp=AZP)


@pytest.mark.parametrize("name", CONFIG_TYPES)
async def test_every_config_type_verifies_its_own_tokens(name: str) -> None:
    key = SigningKey.generate(name, kid="ins_1")
    assert (key.name, key.config["type"]) == (name, name)
    result = await call(middleware(jwt_secret=key.config), bearer(mint(key, claims())))
    assert result.status == 200
    assert dict(result.session) == {"x-hasura-user-id": "user_1", "x-hasura-role": "user"}


@pytest.mark.network
async def test_jwks_of_every_family_served_on_loopback() -> None:
    signers = [SigningKey.generate(name, kid=name) for name in ("RS256", "ES384", "Ed25519")]
    document = json.dumps({"keys": [key.jwk() for key in signers]}).encode()

    async def jwks(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": document})

    async with serve(jwks) as base:
        app = HasuraJWTMiddleware(
            echo_app, jwt_secret={"jwk_url": f"{base}/jwks", "issuer": ISSUER}, environ={}
        )
        async with serve(app, lifespan="on") as app_base, httpx.AsyncClient() as client:
            for key in signers:
                response = await client.post(app_base, headers=bearer(mint(key, claims())))
                assert response.json()["x-hasura-user-id"] == "user_1", key.name
    assert {jwk["kid"]: (jwk["alg"], jwk["use"]) for jwk in json.loads(document)["keys"]} == {
        "RS256": ("RS256", "sig"),
        "ES384": ("ES384", "sig"),
        "Ed25519": ("EdDSA", "sig"),
    }
    assert all("d" not in jwk for jwk in json.loads(document)["keys"])  # public members only


def test_mint_signs_exactly_the_segments_it_is_given() -> None:
    key = SigningKey.hmac("a-development-secret-of-32-bytes-or-more", kid="k")
    head, body, _ = mint(key, {"sub": "x"}, header={"typ": "at+jwt"}).split(".")
    assert head == b64url(b'{"alg": "HS256", "typ": "at+jwt", "kid": "k"}')
    assert body == b64url(b'{"sub": "x"}')
    head, body, signature = mint(key, b"not json", alg="HS512", raw_header=b"{,}").split(".")
    assert (head, body) == (b64url(b"{,}"), b64url(b"not json"))
    assert signature == b64url(key.sign(f"{head}.{body}".encode(), "HS512"))


def test_claim_builders_compose() -> None:
    hasura = hasura_claims("user_2", ["editor", "user"], None, **{"x-hasura-org-id": "42"})
    assert hasura == {
        "x-hasura-user-id": "user_2",
        "x-hasura-default-role": "editor",
        "x-hasura-allowed-roles": ["editor", "user"],
        "x-hasura-org-id": "42",
    }
    made = clerk_claims(user_id="user_2", issuer=ISSUER, azp=AZP, hasura=hasura, now=1000.7)
    # Clerk's Hasura template (spec 6), in its sorted order: no sid.
    assert list(made) == ["azp", "exp", NAMESPACE, "iat", "iss", "jti", "nbf", "sub"]
    assert {name: made[name] for name in ("exp", "iat", "nbf")} == registered_claims(now=1000)
    assert registered_claims(now=1000) == {"exp": 1060, "iat": 1000, "nbf": 995}
    assert (made["sub"], made[NAMESPACE]) == ("user_2", hasura)


def test_keys_it_cannot_make() -> None:
    with pytest.raises(ValueError, match="no key type 'PS256'"):
        SigningKey.generate("PS256")
    with pytest.raises(ValueError, match="an HMAC secret has no public JWK"):
        SigningKey.generate("HS256").jwk()
    with pytest.raises(ValueError, match="unsupported curve secp256k1"):
        SigningKey.from_private_key(ec.generate_private_key(ec.SECP256K1()))
    with pytest.raises(ValueError, match="expected an RSA, EC or Ed25519 private key"):
        SigningKey.from_private_key(dsa.generate_private_key(2048))  # type: ignore[arg-type]


def test_the_package_root_does_not_import_it() -> None:
    code = "import sys, asgi_hasura_jwt; print('asgi_hasura_jwt.testing' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"
