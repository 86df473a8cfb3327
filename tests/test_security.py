"""Spec 7: the security floor, beyond what Hasura enforces."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from asgi_hasura_jwt import ConfigError, HasuraJWTMiddleware

from .conftest import (
    HMAC_SECRET,
    NAMESPACE,
    SigningKey,
    b64url,
    call,
    echo_app,
    hasura_claims,
    middleware,
    mint,
    payload,
)

HS = {"type": "HS256", "key": HMAC_SECRET}
INVALID_SIGNATURE = (400, "invalid-jwt", "Could not verify JWT: JWSError JWSInvalidSignature")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# 7.1 algorithm pinning ---------------------------------------------------------------------


@pytest.mark.parametrize("family", ["RS256", "ES256", "Ed25519"])
async def test_hmac_with_public_key_pem_is_refused(
    keys: dict[str, SigningKey], family: str
) -> None:
    from joserfc.jwk import OctKey

    public_pem = keys[family].config["key"]
    # joserfc's importer refuses PEM text as an oct key; an attacker's own signer would not.
    secret = public_pem.encode()
    attacker = SigningKey("x", "HS256", OctKey(secret, secret), {})
    result = await call(middleware(jwt_secret=keys[family].config), bearer(mint(attacker)))
    assert result.error() == INVALID_SIGNATURE


@pytest.mark.parametrize(
    ("config_type", "family"),
    [
        ("RS256", "ES256"),
        ("ES256", "ES384"),
        ("ES384", "ES256"),
        ("ES256", "RS256"),
        ("Ed25519", "RS256"),
        ("RS512", "Ed25519"),
    ],
)
def test_type_must_match_key(keys: dict[str, SigningKey], config_type: str, family: str) -> None:
    with pytest.raises(ConfigError, match=f"Invalid JWK: key does not match type {config_type}"):
        HasuraJWTMiddleware(
            echo_app,
            jwt_secret={"type": config_type, "key": keys[family].config["key"]},
            environ={},
        )


# 7.2 header members that import keys, crit, b64 ------------------------------------------


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
async def test_key_importing_headers_are_ignored(keys: dict[str, SigningKey], member: str) -> None:
    from joserfc.jwk import RSAKey

    attacker_key = RSAKey.generate_key(2048)
    attacker = SigningKey("a", "RS256", attacker_key, {})
    values = {
        "jwk": attacker_key.as_dict(private=False),
        "jku": "http://127.0.0.1:9/jwks.json",
        "x5u": "http://127.0.0.1:9/cert.pem",
        "x5c": ["MIIB"],
    }
    token = mint(attacker, header={member: values[member]})
    result = await call(middleware(jwt_secret=keys["RS256"].config), bearer(token))
    assert result.error() == INVALID_SIGNATURE


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ({"crit": ["exp"], "exp": 1}, "JWSError JWSUnsupportedCriticalExtension"),
        ({"crit": []}, "JWSError JWSUnsupportedCriticalExtension"),
        ({"crit": "b64"}, "JWSError JWSUnsupportedCriticalExtension"),
        ({"b64": False, "crit": ["b64"]}, "JWSError JWSUnencodedPayloadUnsupported"),
        ({"b64": False}, "JWSError JWSUnencodedPayloadUnsupported"),
        ({"b64": True, "crit": ["b64"]}, None),
    ],
)
async def test_crit_and_b64(
    keys: dict[str, SigningKey], header: dict[str, Any], reason: str | None
) -> None:
    result = await call(middleware(jwt_secret=HS), bearer(mint(keys["HS256"], header=header)))
    if reason is None:
        assert result.status == 200
    else:
        assert result.error() == (400, "invalid-jwt", f"Could not verify JWT: {reason}")


MALFORMED_KID = (
    400,
    "invalid-jwt",
    "Could not verify JWT: JWSError (CompactDecodeError Invalid header: kid must be a string)",
)
# Hasura's JOSE parser (jose's headerOptional) reads a present kid as text; null included.
NOT_STRING_KIDS = [123, 1.5, True, False, None, [], ["k0"], {}, {"kid": "k0"}]


@pytest.mark.parametrize("kid", NOT_STRING_KIDS, ids=json.dumps)
@pytest.mark.parametrize("family", ["HS256", "RS256"])
async def test_a_kid_that_is_not_a_string_is_refused(
    keys: dict[str, SigningKey], family: str, kid: Any
) -> None:
    # Static keys ignore kid (as Hasura does), yet the header is still malformed.
    token = mint(keys[family], header={"kid": kid})
    result = await call(middleware(jwt_secret=keys[family].config), bearer(token))
    assert result.error() == MALFORMED_KID


@pytest.mark.parametrize("kid", ["", "any-kid", "123"])
async def test_a_string_kid_is_fine_with_static_keys(keys: dict[str, SigningKey], kid: str) -> None:
    token = mint(keys["HS256"], header={"kid": kid})
    assert (await call(middleware(jwt_secret=HS), bearer(token))).status == 200


# 7.3 bounded input -------------------------------------------------------------------------


async def test_token_size_limit_comes_first() -> None:
    app = middleware(jwt_secret=[{**HS, "issuer": "a"}, {**HS, "issuer": "b"}], max_token_bytes=100)
    expected = (
        400,
        "invalid-jwt",
        "Could not verify JWT: JWSError (CompactDecodeError Token exceeds the size limit of 100 "
        "bytes)",
    )
    # One part only, and no readable iss: the size rule still decides, not the parts rule,
    # and the size check happens before the issuer pre-match reads anything.
    single = middleware(jwt_secret=HS, max_token_bytes=100)
    assert (await call(single, bearer("a" * 101))).error() == expected
    big = mint(SigningKey("k", "HS256", _oct(), HS), {"iss": "a", "pad": "x" * 200})
    assert (
        await call(middleware(jwt_secret={**HS, "issuer": "a"}, max_token_bytes=100), bearer(big))
    ).error() == expected
    # With two issuer configs an oversize token has no readable iss, so both pairs match.
    assert (await call(app, bearer(big))).error() == (
        400,
        "invalid-headers",
        "Could not verify JWT: Multiple JWTs found",
    )


def _oct() -> Any:
    from joserfc.jwk import OctKey

    return OctKey.import_key(HMAC_SECRET.encode())


async def test_default_size_limit_is_16_kib(keys: dict[str, SigningKey]) -> None:
    fits = mint(keys["HS256"], payload(pad="x" * 11_000))
    assert (await call(middleware(jwt_secret=HS), bearer(fits))).status == 200
    too_big = mint(keys["HS256"], payload(pad="x" * 13_000))
    status, code, message = (await call(middleware(jwt_secret=HS), bearer(too_big))).error()
    assert (status, code) == (400, "invalid-jwt")
    assert message.startswith("Could not verify JWT: ")
    assert "16384" in message


# 7.4 nothing secret in logs, messages or reprs ------------------------------------------------


async def test_no_secret_or_token_leaks(
    keys: dict[str, SigningKey], caplog: pytest.LogCaptureFixture
) -> None:
    from asgi_hasura_jwt._keys import key_from_config

    token = mint(keys["RS256"], payload(exp=1))
    app = middleware(jwt_secret=[HS, keys["RS256"].config], admin_secret="top-secret-admin")
    with caplog.at_level(logging.DEBUG, logger="asgi_hasura_jwt"):
        bodies = [
            (await call(app, bearer(token))).body,
            (await call(app, {"x-hasura-admin-secret": "top-secret-admin-wrong"})).body,
            (await call(app, bearer(token + "x"))).body,
        ]
    text = caplog.text + b"".join(bodies).decode()
    for secret in (token, token.split(".")[2], HMAC_SECRET, "top-secret-admin"):
        assert secret not in text
    key = key_from_config("HS256", HMAC_SECRET)
    assert HMAC_SECRET not in repr(key)
    assert HMAC_SECRET[:10] not in repr(key)


# 7.6 strict JSON and base64url through the whole middleware ----------------------------------


def _token(keys: dict[str, SigningKey], head: bytes, body: bytes) -> str:
    return mint(keys["HS256"], body, raw_header=head)


GOOD_HEAD = b'{"alg":"HS256"}'
GOOD_BODY = json.dumps({NAMESPACE: hasura_claims()}).encode()


@pytest.mark.parametrize(
    ("head", "body", "message"),
    [
        (
            b'{"alg":"HS256","alg":"none"}',
            GOOD_BODY,
            "JWSError (CompactDecodeError Invalid JSON in header: duplicate member name)",
        ),
        (
            GOOD_HEAD,
            b'{"sub":"a","sub":"b"}',
            'JWTClaimsSetDecodeError "Invalid JSON in payload: duplicate member name"',
        ),
        (
            GOOD_HEAD,
            b'{"exp":NaN}',
            'JWTClaimsSetDecodeError "Invalid JSON in payload: NaN is not valid JSON"',
        ),
        (
            GOOD_HEAD,
            b'{"exp":Infinity}',
            'JWTClaimsSetDecodeError "Invalid JSON in payload: Infinity is not valid JSON"',
        ),
        (
            GOOD_HEAD,
            b'{"exp":1e400}',
            'JWTClaimsSetDecodeError "exp must be a finite number below 2^63"',
        ),
        (
            GOOD_HEAD,
            '{"sub":"a"}'.encode("utf-16"),
            'JWTClaimsSetDecodeError "Invalid JSON in payload: not UTF-8"',
        ),
        (
            GOOD_HEAD,
            b"\xef\xbb\xbf" + GOOD_BODY,
            'JWTClaimsSetDecodeError "Invalid JSON in payload: invalid JSON"',
        ),
        (
            GOOD_HEAD,
            b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",
            'JWTClaimsSetDecodeError "Invalid JSON in payload: JSON nested too deeply"',
        ),
        (
            GOOD_HEAD,
            b'{"sub":"\\ud800"}',
            'JWTClaimsSetDecodeError "Invalid JSON in payload: lone surrogate in JSON string"',
        ),
        (
            GOOD_HEAD,
            b'{"exp":' + b"9" * 5000 + b"}",
            'JWTClaimsSetDecodeError "Invalid JSON in payload: invalid JSON"',
        ),
    ],
)
async def test_strict_json(
    keys: dict[str, SigningKey], head: bytes, body: bytes, message: str
) -> None:
    result = await call(middleware(jwt_secret=HS), bearer(_token(keys, head, body)))
    assert result.error() == (400, "invalid-jwt", f"Could not verify JWT: {message}")


@pytest.mark.parametrize(
    ("mutate", "segment"),
    [
        (lambda s: s + "=", "header"),
        (lambda s: s.replace("J", "+", 1) if "J" in s else "+" + s[1:], "header"),
        (lambda s: s[:4] + "%" + s[4:], "header"),
        (lambda s: s + "A", "header"),  # length % 4 == 1 after the change, or non-canonical
    ],
)
async def test_strict_base64url(keys: dict[str, SigningKey], mutate: Any, segment: str) -> None:
    head, body, signature = mint(keys["HS256"]).split(".")
    token = f"{mutate(head)}.{body}.{signature}"
    status, code, message = (await call(middleware(jwt_secret=HS), bearer(token))).error()
    assert (status, code) == (400, "invalid-jwt")
    assert message.startswith("Could not verify JWT: JWSError (CompactDecodeError Invalid header: ")


async def test_non_canonical_base64_trailing_bits(keys: dict[str, SigningKey]) -> None:
    head, body, signature = mint(keys["HS256"]).split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # A signature of 32 bytes has 43 chars: the last one carries 2 unused bits.
    last = alphabet.index(signature[-1])
    twin = signature[:-1] + alphabet[last | 1]
    result = await call(middleware(jwt_secret=HS), bearer(f"{head}.{body}.{twin}"))
    assert result.error() == (
        400,
        "invalid-jwt",
        "Could not verify JWT: JWSError (CompactDecodeError Invalid signature: non-canonical "
        "base64url)",
    )


# 7.7 claim names and values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (
            {**hasura_claims(), "X-Hasura-User-Id": "other"},
            (
                400,
                "jwt-invalid-claims",
                "x-hasura-* claims: x-hasura-user-id is given more than once",
            ),
        ),
        (
            {**hasura_claims(), "x-hasura-org": "a\r\nx-hasura-role: admin"},
            (400, "jwt-invalid-claims", "x-hasura-* claims: x-hasura-org contains CR, LF or NUL"),
        ),
        (
            {**hasura_claims(), "x-hasura-org": "a\x00"},
            (400, "jwt-invalid-claims", "x-hasura-* claims: x-hasura-org contains CR, LF or NUL"),
        ),
        (
            {**hasura_claims(default="us\ner", roles=["us\ner"])},
            (
                400,
                "jwt-invalid-claims",
                "invalid x-hasura-allowed-roles; should be a list of roles: "
                "CR, LF and NUL are not allowed in a role name",
            ),
        ),
    ],
)
async def test_claim_names_and_values(
    keys: dict[str, SigningKey], claims: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    result = await call(middleware(jwt_secret=HS), bearer(mint(keys["HS256"], {NAMESPACE: claims})))
    assert result.error() == expected


async def test_unicode_case_folding_is_not_applied(keys: dict[str, SigningKey]) -> None:
    # U+212A KELVIN SIGN lower-cases to "k" in Unicode; ASCII-only lowering keeps it distinct.
    claims = {**hasura_claims(), "x-hasura-\u212aey": "kelvin", "x-hasura-key": "plain"}
    result = await call(middleware(jwt_secret=HS), bearer(mint(keys["HS256"], {NAMESPACE: claims})))
    assert result.status == 200
    assert result.session["x-hasura-key"] == "plain"
    assert result.session["x-hasura-\u212aey"] == "kelvin"


# 7.10 cookie parsing ----------------------------------------------------------------------------


async def test_malformed_cookie_does_not_hide_later_ones(keys: dict[str, SigningKey]) -> None:
    config = {**HS, "header": {"type": "Cookie", "name": "__session"}}
    token = mint(keys["HS256"])
    header = f'a="unterminated; b=\\x; ;; =novalue; __session={token}'
    result = await call(middleware(jwt_secret=config), {"Cookie": header})
    assert result.status == 200, result.body


async def test_base64url_helper_round_trip() -> None:
    assert b64url(b"\xff\xfe") == "__4"


async def test_size_limit_counts_bytes_not_characters(keys: dict[str, SigningKey]) -> None:
    # 60 characters of two UTF-8 bytes each: under a 100-character limit, over 100 bytes.
    config = {**HS, "header": {"type": "Cookie", "name": "t"}}
    result = await call(
        middleware(jwt_secret=config, max_token_bytes=100), {"Cookie": "t=" + "%C3%A9" * 60}
    )
    assert result.error() == (
        400,
        "invalid-jwt",
        "Could not verify JWT: JWSError (CompactDecodeError Token exceeds the size limit of 100 "
        "bytes)",
    )


async def test_a_raising_signature_check_is_a_mismatch(
    keys: dict[str, SigningKey], monkeypatch: pytest.MonkeyPatch
) -> None:
    # cryptography may raise (not return False) on malformed input; that is no match, never a 500.
    from asgi_hasura_jwt._keys import hmac_key

    def explode(*args: Any) -> bool:
        raise ValueError("malformed signature bytes")

    # The algorithm objects are shared by every key: patch the one HS256 keys verify with.
    in_use = hmac_key(HMAC_SECRET.encode()).algorithms["HS256"]
    monkeypatch.setattr(in_use, "verify", explode)
    result = await call(middleware(jwt_secret=HS), bearer(mint(keys["HS256"])))
    assert result.error() == INVALID_SIGNATURE


def test_reprs_hold_no_secrets() -> None:
    from asgi_hasura_jwt import InvalidJWT, Session

    assert repr(InvalidJWT("JWTExpired")) == (
        "InvalidJWT(code='invalid-jwt', status=400, 'Could not verify JWT: JWTExpired')"
    )
    assert repr(Session({"x-hasura-role": "user"}, expires_at=5.0)) == (
        "Session({'x-hasura-role': 'user'}, expires_at=5.0)"
    )
