"""Spec 2 through the middleware: locating, verifying, claims, roles, admin secret, fallbacks.

Every failure asserts (status, code, message) from Hasura's error body.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from .conftest import HMAC_SECRET, NAMESPACE, SigningKey, call, hasura_claims, middleware, mint
from .conftest import payload as make_payload

INVALID_JWT = (400, "invalid-jwt")
INVALID_CLAIMS = (400, "jwt-invalid-claims")
MISSING_ROLES = (400, "jwt-missing-role-claims")
INVALID_HEADERS = (400, "invalid-headers")
MISSING = "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"
HS = {"type": "HS256", "key": HMAC_SECRET}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def assert_error(app: Any, headers: Any, expected: tuple[int, str, str]) -> None:
    result = await call(app, headers)
    assert result.error() == expected
    assert result.scope is None  # the inner app was not called
    assert result.headers["content-type"] == "application/json"


# --- success across key families, locations and claims shapes -------------------------------


@pytest.mark.parametrize(
    ("family", "alg"),
    [
        ("HS256", "HS256"),
        ("HS256", "HS384"),
        ("HS256", "HS512"),
        ("RS256", "RS256"),
        ("RS256", "RS384"),
        ("RS256", "RS512"),
        ("RS256", "PS256"),
        ("RS256", "PS384"),
        ("RS256", "PS512"),
        ("ES256", "ES256"),
        ("ES384", "ES384"),
        ("ES512", "ES512"),
        ("Ed25519", "EdDSA"),
        ("Ed25519", "Ed25519"),
    ],
)
async def test_every_key_family_verifies(
    keys: dict[str, SigningKey], family: str, alg: str
) -> None:
    key = keys[family]
    token = mint(key, alg=alg)
    result = await call(middleware(jwt_secret=key.config), bearer(token))
    assert result.status == 200, result.body
    assert dict(result.session) == {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
    assert result.session.role == "user"


@pytest.mark.parametrize(
    ("header_config", "headers"),
    [
        (None, lambda t: [("Authorization", f"Bearer {t}")]),
        (None, lambda t: [("Authorization", f" \tbearer \t {t}\t ")]),
        (None, lambda t: [("Authorization", f"BEARER {t}")]),
        (
            {"type": "Cookie", "name": "__session"},
            lambda t: [("Cookie", f"theme=dark; __session={t}; other=1")],
        ),
        (
            {"type": "Cookie", "name": "__session"},
            lambda t: [("Cookie", f"bad cookie no equals;__session={t.replace('.', '%2E')}")],
        ),
        ({"type": "CustomHeader", "name": "X-Auth-Token"}, lambda t: [("x-auth-token", t)]),
    ],
    ids=[
        "authorization",
        "authorization-spaces-tabs",
        "bearer-upper",
        "cookie",
        "cookie-encoded",
        "custom-header",
    ],
)
async def test_token_locations(
    keys: dict[str, SigningKey], header_config: Any, headers: Any
) -> None:
    config = dict(HS, header=header_config) if header_config else HS
    result = await call(middleware(jwt_secret=config), headers(mint(keys["HS256"])))
    assert result.status == 200, result.body
    assert result.session["x-hasura-user-id"] == "user-1"


@pytest.mark.parametrize(
    ("config_extra", "claims"),
    [
        ({}, {NAMESPACE: hasura_claims()}),
        ({"claims_format": "stringified_json"}, {NAMESPACE: json.dumps(hasura_claims())}),
        ({"claims_namespace": "hasura"}, {"hasura": hasura_claims()}),
        ({"claims_namespace_path": "$"}, hasura_claims()),
        ({"claims_namespace_path": "$.a"}, {"a": hasura_claims()}),
        ({"claims_namespace_path": "$.a.b"}, {"a": {"b": hasura_claims()}}),
        ({"claims_namespace_path": "$.a['b%']"}, {"a": {"b%": hasura_claims()}}),
        ({"claims_namespace_path": "a[1]"}, {"a": [0, hasura_claims()]}),
        (
            {"claims_namespace_path": "$.a.b", "claims_format": "stringified_json"},
            {"a": {"b": json.dumps(hasura_claims())}},
        ),
    ],
    ids=[
        "default",
        "stringified",
        "namespace",
        "path-root",
        "path-a",
        "path-a-b",
        "path-quoted",
        "path-index",
        "path-stringified",
    ],
)
async def test_claims_shapes(
    keys: dict[str, SigningKey], config_extra: dict[str, Any], claims: dict[str, Any]
) -> None:
    body = {"exp": time.time() + 60, **claims}
    result = await call(
        middleware(jwt_secret={**HS, **config_extra}), bearer(mint(keys["HS256"], body))
    )
    assert result.status == 200, result.body
    assert dict(result.session) == {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
    assert result.session.expires_at == body["exp"]


async def test_claims_names_are_lower_cased_and_others_dropped(keys: dict[str, SigningKey]) -> None:
    claims = {
        "X-Hasura-Allowed-Roles": ["user"],
        "X-HASURA-DEFAULT-ROLE": "user",
        "X-Hasura-Org-Id": "42",
        "x-hasura-role": "ignored-role-claim",
        "x-hasura-admin-secret": "never",
        "unrelated": "dropped",
    }
    token = mint(keys["HS256"], {NAMESPACE: claims})
    result = await call(middleware(jwt_secret=HS), bearer(token))
    assert dict(result.session) == {"x-hasura-org-id": "42", "x-hasura-role": "user"}
    assert result.session.expires_at is None  # no exp: never expires


async def test_namespace_path_excludes_registered_claims(keys: dict[str, SigningKey]) -> None:
    token = mint(keys["HS256"], {"sub": "u", "claims": hasura_claims()})
    app = middleware(jwt_secret={**HS, "claims_namespace_path": "$.sub"})
    await assert_error(
        app, bearer(token), (*INVALID_CLAIMS, "claims not found at claims_namespace_path: '$.sub'")
    )


# --- claims_map (2.6) ------------------------------------------------------------------------

CLAIMS_MAP = {
    "x-hasura-allowed-roles": {"path": "$.roles", "default": ["user"]},
    "x-hasura-default-role": {"path": "$.role", "default": "user"},
    "x-hasura-user-id": {"path": "$.sub"},
    "x-hasura-org-id": {"path": "$.org['id']", "default": "none"},
    "x-hasura-tier": "gold",
}


@pytest.mark.parametrize(
    ("claims", "role_header", "expected"),
    [
        (
            {"sub": "u1"},
            None,
            {
                "x-hasura-user-id": "u1",
                "x-hasura-org-id": "none",
                "x-hasura-tier": "gold",
                "x-hasura-role": "user",
            },
        ),
        (
            {"sub": "u2", "roles": ["user", "admin"], "role": "admin", "org": {"id": "o9"}},
            None,
            {
                "x-hasura-user-id": "u2",
                "x-hasura-org-id": "o9",
                "x-hasura-tier": "gold",
                "x-hasura-role": "admin",
            },
        ),
        (
            {"sub": "u3", "roles": ["user", "admin"], "role": "admin"},
            "user",
            {
                "x-hasura-user-id": "u3",
                "x-hasura-org-id": "none",
                "x-hasura-tier": "gold",
                "x-hasura-role": "user",
            },
        ),
    ],
)
async def test_claims_map(
    keys: dict[str, SigningKey],
    claims: dict[str, Any],
    role_header: str | None,
    expected: dict[str, str],
) -> None:
    headers = bearer(mint(keys["HS256"], claims))
    if role_header:
        headers["x-hasura-role"] = role_header
    result = await call(middleware(jwt_secret={**HS, "claims_map": CLAIMS_MAP}), headers)
    assert result.status == 200, result.body
    assert dict(result.session) == expected


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (
            {"roles": "user", "sub": "u"},
            (
                *INVALID_CLAIMS,
                "invalid x-hasura-allowed-roles; should be a list of roles: "
                "parsing [] failed, expected Array, but encountered String",
            ),
        ),
        (
            {"roles": None, "sub": "u"},
            (
                *INVALID_CLAIMS,
                "invalid x-hasura-allowed-roles; should be a list of roles: "
                "parsing [] failed, expected Array, but encountered Null",
            ),
        ),
        (
            {"role": 7, "sub": "u"},
            (
                *INVALID_CLAIMS,
                "invalid x-hasura-default-role; should be a role: "
                "parsing Text failed, expected String, but encountered Number",
            ),
        ),
        (
            {"role": "", "sub": "u"},
            (
                *INVALID_CLAIMS,
                "invalid x-hasura-default-role; should be a role: empty string not allowed",
            ),
        ),
        ({}, (*INVALID_CLAIMS, "JWT claim from claims_map, x-hasura-user-id not found")),
        (
            {"sub": "u", "org": {"id": 5}},
            (
                *INVALID_CLAIMS,
                "x-hasura-* claims: parsing Text failed, expected String, but encountered Number",
            ),
        ),
    ],
    ids=[
        "roles-string",
        "roles-null",
        "default-number",
        "default-empty",
        "missing-no-default",
        "value-number",
    ],
)
async def test_claims_map_errors(
    keys: dict[str, SigningKey], claims: dict[str, Any], expected: tuple[int, str, str]
) -> None:
    app = middleware(jwt_secret={**HS, "claims_map": CLAIMS_MAP})
    await assert_error(app, bearer(mint(keys["HS256"], claims)), expected)


async def test_claims_map_roles_without_default(keys: dict[str, SigningKey]) -> None:
    claims_map = {
        "x-hasura-allowed-roles": {"path": "$.roles"},
        "x-hasura-default-role": {"path": "$.role"},
    }
    app = middleware(jwt_secret={**HS, "claims_map": claims_map})
    await assert_error(
        app,
        bearer(mint(keys["HS256"], {"role": "user"})),
        (*MISSING_ROLES, "JWT claim does not contain x-hasura-allowed-roles"),
    )
    await assert_error(
        app,
        bearer(mint(keys["HS256"], {"roles": ["user"]})),
        (*MISSING_ROLES, "JWT claim does not contain x-hasura-default-role"),
    )


# --- locating the token (2.2, 2.3) -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Basic abc",
        "Bearer",
        "Bearer a b",
        "token-without-scheme",
        "Bearer\u00a0abc",
        "",
        "Bearer\xe2\x80\x83abc",  # U+2003 EM SPACE as UTF-8 bytes
    ],
)
async def test_malformed_authorization(value: str) -> None:
    expected = (*INVALID_HEADERS, "Malformed Authorization header")
    await assert_error(middleware(jwt_secret=HS), {"Authorization": value}, expected)
    # Also with an unauthorized role: malformed is not "no token".
    await assert_error(
        middleware(jwt_secret=HS, unauthorized_role="anonymous"), {"Authorization": value}, expected
    )


async def test_no_token() -> None:
    await assert_error(middleware(jwt_secret=HS), {}, (*INVALID_HEADERS, MISSING))
    cookie_config = {**HS, "header": {"type": "Cookie", "name": "__session"}}
    await assert_error(
        middleware(jwt_secret=cookie_config),
        {"Cookie": "other=1; __Session=x"},
        (*INVALID_HEADERS, MISSING),
    )
    custom_config = {**HS, "header": {"type": "CustomHeader", "name": "x-token"}}
    await assert_error(
        middleware(jwt_secret=custom_config),
        {"Authorization": "Bearer x"},
        (*INVALID_HEADERS, MISSING),
    )


@pytest.mark.parametrize(
    ("config_header", "headers"),
    [
        (None, lambda t: [("Authorization", f"Bearer {t}"), ("Authorization", f"Bearer {t}")]),
        (
            {"type": "Cookie", "name": "s"},
            lambda t: [("Cookie", f"s={t}"), ("Cookie", f"s={t}")],
        ),
        ({"type": "Cookie", "name": "s"}, lambda t: [("Cookie", f"s={t}; s={t}")]),
        ({"type": "CustomHeader", "name": "x-t"}, lambda t: [("x-t", t), ("X-T", t)]),
    ],
    ids=["two-authorization", "two-cookie-headers", "cookie-twice", "custom-twice"],
)
async def test_multiple_jwts(keys: dict[str, SigningKey], config_header: Any, headers: Any) -> None:
    config = dict(HS, header=config_header) if config_header else HS
    await assert_error(
        middleware(jwt_secret=config),
        headers(mint(keys["HS256"])),
        (*INVALID_HEADERS, "Could not verify JWT: Multiple JWTs found"),
    )


async def test_custom_header_value_is_verbatim(keys: dict[str, SigningKey]) -> None:
    config = {**HS, "header": {"type": "CustomHeader", "name": "x-token"}}
    await assert_error(
        middleware(jwt_secret=config),
        {"x-token": "Bearer " + mint(keys["HS256"])},
        (
            *INVALID_JWT,
            "Could not verify JWT: JWSError (CompactDecodeError Invalid header: "
            "invalid base64url character)",
        ),
    )


# --- multiple configs and the issuer pre-match ----------------------------------------------


async def test_issuer_routing(keys: dict[str, SigningKey]) -> None:
    clerk = {**keys["RS256"].config, "issuer": "https://clerk.example"}
    auth0 = {**keys["ES256"].config, "issuer": "https://auth0.example"}
    app = middleware(jwt_secret=[clerk, auth0])
    for key, issuer in (
        (keys["RS256"], "https://clerk.example"),
        (keys["ES256"], "https://auth0.example"),
    ):
        result = await call(app, bearer(mint(key, make_payload(iss=issuer))))
        assert result.status == 200, result.body
    await assert_error(
        app,
        bearer(mint(keys["RS256"], make_payload(iss="https://other.example"))),
        (*INVALID_JWT, "Could not verify JWT: JWTNotInIssuer"),
    )
    # No iss in the token: both configs match the pair.
    await assert_error(
        app,
        bearer(mint(keys["RS256"])),
        (*INVALID_HEADERS, "Could not verify JWT: Multiple JWTs found"),
    )
    # An unreadable payload counts as having no iss.
    await assert_error(
        app, bearer("a.b.c"), (*INVALID_HEADERS, "Could not verify JWT: Multiple JWTs found")
    )


async def test_single_config_issuer_prematch(keys: dict[str, SigningKey]) -> None:
    app = middleware(jwt_secret={**HS, "issuer": "https://a"})
    await assert_error(
        app,
        bearer(mint(keys["HS256"], make_payload(iss="https://b"))),
        (*INVALID_JWT, "Could not verify JWT: JWTNotInIssuer"),
    )
    result = await call(app, bearer(mint(keys["HS256"])))  # no iss passes
    assert result.status == 200


async def test_configs_in_different_locations(keys: dict[str, SigningKey]) -> None:
    cookie = {**keys["RS256"].config, "header": {"type": "Cookie", "name": "__session"}}
    app = middleware(jwt_secret=[HS, cookie])
    by_header = await call(app, bearer(mint(keys["HS256"])))
    by_cookie = await call(app, {"Cookie": f"__session={mint(keys['RS256'])}"})
    assert (by_header.status, by_cookie.status) == (200, 200)
    await assert_error(
        app,
        {
            "Authorization": f"Bearer {mint(keys['HS256'])}",
            "Cookie": f"__session={mint(keys['RS256'])}",
        },
        (*INVALID_HEADERS, "Could not verify JWT: Multiple JWTs found"),
    )


# --- verification (2.4) ------------------------------------------------------------------------


def _parts_error(count: int) -> tuple[int, str, str]:
    return (
        *INVALID_JWT,
        "Could not verify JWT: JWSError (CompactDecodeError Invalid number of "
        f"parts: Expected 3 parts; got {count})",
    )


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("abc", _parts_error(1)),
        ("a.b", _parts_error(2)),
        ("a.b.c.d.e", _parts_error(5)),
        (
            "e30.e30.!!",
            (
                *INVALID_JWT,
                "Could not verify JWT: JWSError (CompactDecodeError Invalid signature: "
                "invalid base64url character)",
            ),
        ),
        (
            "bm90IGpzb24.e30.",
            (
                *INVALID_JWT,
                "Could not verify JWT: JWSError (CompactDecodeError Invalid JSON in "
                "header: invalid JSON)",
            ),
        ),
        (
            "W10.e30.",
            (
                *INVALID_JWT,
                "Could not verify JWT: JWSError (CompactDecodeError header is not a JSON object)",
            ),
        ),
        (
            "e30.bm90IGpzb24.",
            (
                *INVALID_JWT,
                'Could not verify JWT: JWTClaimsSetDecodeError "Invalid JSON in '
                'payload: invalid JSON"',
            ),
        ),
        (
            "e30.WzFd.",
            (
                *INVALID_JWT,
                'Could not verify JWT: JWTClaimsSetDecodeError "payload is not a JSON object"',
            ),
        ),
    ],
)
async def test_undecodable_tokens(token: str, expected: tuple[int, str, str]) -> None:
    await assert_error(middleware(jwt_secret=HS), bearer(token), expected)


@pytest.mark.parametrize(
    ("claims", "detail"),
    [
        ({"exp": "1700000000"}, "exp must be a finite number below 2^63"),
        ({"nbf": True}, "nbf must be a finite number below 2^63"),
        ({"iat": None}, "iat must be a finite number below 2^63"),
        ({"exp": 2**63}, "exp must be a finite number below 2^63"),
        ({"aud": 5}, "aud must be a string or a list of strings"),
        ({"aud": ["a", 5]}, "aud must be a string or a list of strings"),
        ({"iss": 5}, "iss must be a string"),
        ({"sub": ["x"]}, "sub must be a string"),
    ],
)
async def test_claim_types(
    keys: dict[str, SigningKey], claims: dict[str, Any], detail: str
) -> None:
    # A bad claim type is reported before the signature is looked at (2.4 step 2).
    token = mint(keys["HS256"], {**make_payload(), **claims})
    forged = token.rsplit(".", 1)[0] + ".AAAA"
    await assert_error(
        middleware(jwt_secret=HS),
        bearer(forged),
        (*INVALID_JWT, f'Could not verify JWT: JWTClaimsSetDecodeError "{detail}"'),
    )


@pytest.mark.parametrize(
    ("alg", "family", "reason"),
    [
        ("none", "HS256", "JWSError JWSNoSignatures"),
        ("NONE", "RS256", "JWSError JWSNoSignatures"),
        ("nOnE", "ES256", "JWSError JWSNoSignatures"),
        ("HS1", "HS256", "JWSError JWSNoSignatures"),
        ("ES256K", "ES256", "JWSError JWSNoSignatures"),
        ("RS256", "HS256", "JWSError JWSInvalidSignature"),
        ("HS256", "RS256", "JWSError JWSInvalidSignature"),
        ("ES384", "ES256", "JWSError JWSInvalidSignature"),
        ("EdDSA", "ES256", "JWSError JWSInvalidSignature"),
        ("RS256", "Ed25519", "JWSError JWSInvalidSignature"),
    ],
)
async def test_algorithm_pinning(
    keys: dict[str, SigningKey], alg: str, family: str, reason: str
) -> None:
    header = json.dumps({"alg": alg}).encode()
    token = mint(keys["HS256"], raw_header=header).rsplit(".", 1)[0] + ".c2ln"
    await assert_error(
        middleware(jwt_secret=keys[family].config),
        bearer(token),
        (*INVALID_JWT, f"Could not verify JWT: {reason}"),
    )


async def test_wrong_key_and_tampering(keys: dict[str, SigningKey]) -> None:
    expected = (*INVALID_JWT, "Could not verify JWT: JWSError JWSInvalidSignature")
    other = {"type": "HS256", "key": "another-secret-that-is-long-enough-for-hs256!"}
    await assert_error(middleware(jwt_secret=other), bearer(mint(keys["HS256"])), expected)
    token = mint(keys["RS256"])
    head, _, signature = token.split(".")
    tampered = mint(keys["RS256"], make_payload(sub="admin")).split(".")[1]
    await assert_error(
        middleware(jwt_secret=keys["RS256"].config),
        bearer(f"{head}.{tampered}.{signature}"),
        expected,
    )


async def test_hs256_is_limited_by_key_length(keys: dict[str, SigningKey]) -> None:
    short = "k" * 40  # enough for HS256, not for HS384 / HS512
    from joserfc.jwk import OctKey

    key = SigningKey(
        "HS", "HS384", OctKey.import_key(short.encode()), {"type": "HS256", "key": short}
    )
    app = middleware(jwt_secret=key.config)
    assert (await call(app, bearer(mint(key, alg="HS256")))).status == 200
    for alg in ("HS384", "HS512"):
        await assert_error(
            app,
            bearer(mint(key, alg=alg)),
            (*INVALID_JWT, "Could not verify JWT: JWSError JWSInvalidSignature"),
        )


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("claims", "skew", "reason"),
    [
        ({"exp": NOW}, 0, "JWTExpired"),
        ({"exp": NOW - 0.5}, 0, "JWTExpired"),
        ({"exp": NOW - 10}, 10, "JWTExpired"),
        ({"exp": NOW + 0.001}, 0, None),
        ({"exp": NOW - 9}, 10, None),
        ({"exp": NOW - 9}, -10, None),  # the absolute value of the skew is used
        ({"iat": NOW + 1}, 0, "JWTIssuedAtFuture"),
        ({"iat": NOW + 5}, 5, None),
        ({"iat": NOW + 5.5}, 5, "JWTIssuedAtFuture"),
        ({"nbf": NOW + 1}, 0, "JWTNotYetValid"),
        ({"nbf": NOW}, 0, None),
        ({"nbf": NOW + 3}, 3, None),
        ({"nbf": NOW + 3.1}, 3, "JWTNotYetValid"),
        ({"exp": NOW - 1, "nbf": NOW + 1}, 0, "JWTExpired"),  # exp is checked first
    ],
)
async def test_time_claims(
    keys: dict[str, SigningKey], claims: dict[str, Any], skew: float, reason: str | None
) -> None:
    app = middleware(jwt_secret={**HS, "allowed_skew": skew}, clock=lambda: NOW)
    token = mint(keys["HS256"], {NAMESPACE: hasura_claims(), **claims})
    if reason is None:
        assert (await call(app, bearer(token))).status == 200
    else:
        await assert_error(app, bearer(token), (*INVALID_JWT, f"Could not verify JWT: {reason}"))


@pytest.mark.parametrize(
    ("config_extra", "claims", "reason"),
    [
        ({"audience": "api"}, {"aud": "api"}, None),
        ({"audience": ["a", "api"]}, {"aud": ["x", "api"]}, None),
        ({"audience": "api"}, {}, None),
        ({"audience": "api"}, {"aud": "web"}, "JWTNotInAudience"),
        ({"audience": ["a", "b"]}, {"aud": []}, "JWTNotInAudience"),
        ({"issuer": "https://i"}, {"iss": "https://i"}, None),
        ({"issuer": "https://i"}, {}, None),
    ],
)
async def test_issuer_and_audience(
    keys: dict[str, SigningKey],
    config_extra: dict[str, Any],
    claims: dict[str, Any],
    reason: str | None,
) -> None:
    app = middleware(jwt_secret={**HS, **config_extra})
    result = await call(app, bearer(mint(keys["HS256"], make_payload(**claims))))
    if reason is None:
        assert result.status == 200, result.body
    else:
        assert result.error() == (*INVALID_JWT, f"Could not verify JWT: {reason}")


# --- Hasura claims (2.5) and roles (2.7, 2.8) ------------------------------------------------


@pytest.mark.parametrize(
    ("config_extra", "claims", "expected"),
    [
        ({}, {}, (*INVALID_CLAIMS, f"claims key: '{NAMESPACE}' not found")),
        (
            {"claims_namespace": "h"},
            {NAMESPACE: {}},
            (*INVALID_CLAIMS, "claims key: 'h' not found"),
        ),
        (
            {"claims_namespace_path": "$.a['b']"},
            {"a": {}},
            (*INVALID_CLAIMS, "claims not found at claims_namespace_path: '$.a['b']'"),
        ),
        (
            {},
            {NAMESPACE: json.dumps(hasura_claims())},
            (*INVALID_CLAIMS, "expecting a json object when claims_format is json"),
        ),
        (
            {"claims_format": "stringified_json"},
            {NAMESPACE: hasura_claims()},
            (*INVALID_CLAIMS, "expecting a string when claims_format is stringified_json"),
        ),
        (
            {"claims_format": "stringified_json"},
            {NAMESPACE: "[1]"},
            (
                *INVALID_CLAIMS,
                f"expecting stringified json at: 'claims_namespace {NAMESPACE}', but found: [1]",
            ),
        ),
        (
            {"claims_format": "stringified_json"},
            {NAMESPACE: '{"a":1,"a":2}'},
            (
                *INVALID_CLAIMS,
                f"expecting stringified json at: 'claims_namespace {NAMESPACE}', "
                'but found: {"a":1,"a":2}',
            ),
        ),
        (
            {"claims_format": "stringified_json", "claims_namespace_path": "$.h"},
            {"h": "{NaN"},
            (
                *INVALID_CLAIMS,
                "expecting stringified json at: 'claims_namespace_path $.h', but found: {NaN",
            ),
        ),
    ],
)
async def test_namespace_errors(
    keys: dict[str, SigningKey],
    config_extra: dict[str, Any],
    claims: dict[str, Any],
    expected: tuple[int, str, str],
) -> None:
    app = middleware(jwt_secret={**HS, **config_extra})
    await assert_error(app, bearer(mint(keys["HS256"], claims)), expected)


ROLES_PREFIX = "invalid x-hasura-allowed-roles; should be a list of roles: "
DEFAULT_PREFIX = "invalid x-hasura-default-role; should be a single role name: "


@pytest.mark.parametrize(
    ("claims", "role_header", "expected"),
    [
        (
            {"x-hasura-default-role": "user"},
            None,
            (*MISSING_ROLES, "JWT claim does not contain x-hasura-allowed-roles"),
        ),
        (
            {"x-hasura-allowed-roles": ["user"]},
            None,
            (*MISSING_ROLES, "JWT claim does not contain x-hasura-default-role"),
        ),
        (
            {"x-hasura-allowed-roles": "user", "x-hasura-default-role": "user"},
            None,
            (
                *INVALID_CLAIMS,
                ROLES_PREFIX + "parsing [] failed, expected Array, but encountered String",
            ),
        ),
        (
            {"x-hasura-allowed-roles": {"a": 1}, "x-hasura-default-role": "user"},
            None,
            (
                *INVALID_CLAIMS,
                ROLES_PREFIX + "parsing [] failed, expected Array, but encountered Object",
            ),
        ),
        (
            {"x-hasura-allowed-roles": ["user", 1], "x-hasura-default-role": "user"},
            None,
            (
                *INVALID_CLAIMS,
                ROLES_PREFIX + "parsing Text failed, expected String, but encountered Number",
            ),
        ),
        (
            {"x-hasura-allowed-roles": ["user", ""], "x-hasura-default-role": "user"},
            None,
            (*INVALID_CLAIMS, ROLES_PREFIX + "empty string not allowed"),
        ),
        (
            {"x-hasura-allowed-roles": ["user"], "x-hasura-default-role": ["user"]},
            None,
            (
                *INVALID_CLAIMS,
                DEFAULT_PREFIX + "parsing Text failed, expected String, but encountered Array",
            ),
        ),
        (
            {"x-hasura-allowed-roles": ["user"], "x-hasura-default-role": ""},
            None,
            (*INVALID_CLAIMS, DEFAULT_PREFIX + "empty string not allowed"),
        ),
        (
            {"x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "admin"},
            None,
            (400, "access-denied", "Your requested role is not in allowed roles"),
        ),
        (
            {"x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user"},
            "admin",
            (400, "access-denied", "Your requested role is not in allowed roles"),
        ),
        (
            {"x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user"},
            "User",
            (400, "access-denied", "Your requested role is not in allowed roles"),
        ),
        (
            {"x-hasura-allowed-roles": [], "x-hasura-default-role": "user"},
            None,
            (400, "access-denied", "Your requested role is not in allowed roles"),
        ),
        (
            {
                "x-hasura-allowed-roles": ["user"],
                "x-hasura-default-role": "user",
                "x-hasura-org": 1,
            },
            None,
            (
                *INVALID_CLAIMS,
                "x-hasura-* claims: parsing Text failed, expected String, but encountered Number",
            ),
        ),
        (
            {
                "x-hasura-allowed-roles": ["user"],
                "x-hasura-default-role": "user",
                "x-hasura-a": True,
            },
            None,
            (
                *INVALID_CLAIMS,
                "x-hasura-* claims: parsing Text failed, expected String, but encountered Boolean",
            ),
        ),
        (
            {
                "x-hasura-allowed-roles": ["user"],
                "x-hasura-default-role": "user",
                "x-hasura-a": None,
            },
            None,
            (
                *INVALID_CLAIMS,
                "x-hasura-* claims: parsing Text failed, expected String, but encountered Null",
            ),
        ),
        (
            {
                "x-hasura-allowed-roles": ["user"],
                "x-hasura-default-role": "user",
                "x-hasura-a": [1],
            },
            None,
            (
                *INVALID_CLAIMS,
                "x-hasura-* claims: parsing Text failed, expected String, but encountered Array",
            ),
        ),
        (
            {"x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user", "x-hasura-a": {}},
            None,
            (
                *INVALID_CLAIMS,
                "x-hasura-* claims: parsing Text failed, expected String, but encountered Object",
            ),
        ),
        # The role check comes before the value check, as in Hasura.
        (
            {"x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "x", "x-hasura-a": 1},
            None,
            (400, "access-denied", "Your requested role is not in allowed roles"),
        ),
    ],
)
async def test_roles(
    keys: dict[str, SigningKey],
    claims: dict[str, Any],
    role_header: str | None,
    expected: tuple[int, str, str],
) -> None:
    headers = bearer(mint(keys["HS256"], {NAMESPACE: claims}))
    if role_header is not None:
        headers["x-hasura-role"] = role_header
    await assert_error(middleware(jwt_secret=HS), headers, expected)


async def test_requested_role(keys: dict[str, SigningKey]) -> None:
    token = mint(
        keys["HS256"], {NAMESPACE: hasura_claims(roles=["user", "editor"], default="viewer")}
    )
    app = middleware(jwt_secret=HS)
    result = await call(
        app,
        [
            ("Authorization", f"Bearer {token}"),
            ("x-hasura-role", "editor"),
            ("x-hasura-role", "ignored-second"),
            ("x-hasura-org-id", "not-from-jwt"),
        ],
    )
    assert dict(result.session) == {"x-hasura-user-id": "user-1", "x-hasura-role": "editor"}
    # An empty role header means "the default role", which need not be allowed unless used.
    await assert_error(
        app,
        {**bearer(token), "x-hasura-role": ""},
        (400, "access-denied", "Your requested role is not in allowed roles"),
    )


# --- admin secret (2.1) and unauthorized role (2.3) ---------------------------------------------

ADMIN = "admin-secret-value"


@pytest.mark.parametrize(
    ("headers", "expected_role"),
    [
        ([("x-hasura-admin-secret", ADMIN)], "admin"),
        ([("x-hasura-admin-secret", ADMIN), ("x-hasura-role", "manager")], "manager"),
        ([("x-hasura-admin-secret", ADMIN), ("x-hasura-role", "")], "admin"),
        ([("x-hasura-access-key", ADMIN)], "admin"),
        ([("x-hasura-admin-secret", "wrong"), ("x-hasura-admin-secret", ADMIN)], "admin"),
        ([("X-Hasura-Admin-Secret", ADMIN), ("Authorization", "Bearer not.a.token")], "admin"),
        ([("x-hasura-admin-secret", ADMIN), ("Authorization", "Basic garbage")], "admin"),
    ],
    ids=[
        "plain",
        "role-header",
        "empty-role",
        "access-key",
        "last-counts",
        "invalid-jwt-ignored",
        "malformed-authorization-ignored",
    ],
)
async def test_admin_secret(headers: list[tuple[str, str]], expected_role: str) -> None:
    result = await call(
        middleware(jwt_secret=HS, admin_secret=ADMIN),
        [*headers, ("x-hasura-user-id", "42"), ("x-hasura-user-id", "43"), ("other", "x")],
    )
    assert result.status == 200, result.body
    assert dict(result.session) == {"x-hasura-user-id": "42", "x-hasura-role": expected_role}
    assert result.session.expires_at is None


@pytest.mark.parametrize(
    "headers",
    [
        [("x-hasura-admin-secret", "wrong")],
        [("x-hasura-admin-secret", "")],
        [("x-hasura-admin-secret", ADMIN), ("x-hasura-admin-secret", "wrong")],
        [("x-hasura-admin-secret", "wrong"), ("x-hasura-access-key", ADMIN)],
        [("x-hasura-access-key", ADMIN + " ")],
    ],
    ids=["wrong", "empty", "last-wrong", "access-key-ignored-when-secret-present", "trailing"],
)
async def test_wrong_admin_secret(
    keys: dict[str, SigningKey], headers: list[tuple[str, str]]
) -> None:
    result = await call(
        middleware(jwt_secret=HS, admin_secret=ADMIN),
        [*headers, ("Authorization", f"Bearer {mint(keys['HS256'])}")],
    )
    assert result.error() == (
        401,
        "access-denied",
        "invalid x-hasura-admin-secret/x-hasura-access-key",
    )
    assert result.headers["www-authenticate"] == "Bearer"


async def test_non_ascii_admin_secret_header_is_401() -> None:
    result = await call(
        middleware(jwt_secret=HS, admin_secret=ADMIN),
        raw_headers=[(b"x-hasura-admin-secret", "sécret\xff".encode("latin-1"))],
    )
    assert result.error() == (
        401,
        "access-denied",
        "invalid x-hasura-admin-secret/x-hasura-access-key",
    )


async def test_admin_secret_header_without_configured_secret_is_ignored(
    keys: dict[str, SigningKey],
) -> None:
    result = await call(middleware(jwt_secret=HS), {"x-hasura-admin-secret": "anything"})
    assert result.error() == (*INVALID_HEADERS, MISSING)


async def test_unauthorized_role() -> None:
    app = middleware(jwt_secret=HS, unauthorized_role="anonymous")
    result = await call(
        app, [("x-hasura-role", "admin"), ("x-hasura-org-id", "7"), ("x-hasura-admin-secret", "s")]
    )
    assert result.status == 200
    assert dict(result.session) == {"x-hasura-org-id": "7", "x-hasura-role": "anonymous"}


async def test_invalid_token_never_falls_back_to_unauthorized_role() -> None:
    app = middleware(jwt_secret=HS, unauthorized_role="anonymous")
    await assert_error(app, bearer("x.y"), _parts_error(2))


async def test_settings_from_environment(keys: dict[str, SigningKey]) -> None:
    environ = {
        "HASURA_GRAPHQL_JWT_SECRET": json.dumps(HS),
        "HASURA_GRAPHQL_ADMIN_SECRET": ADMIN,
        "HASURA_GRAPHQL_UNAUTHORIZED_ROLE": "guest",
    }
    app = middleware(environ=environ)
    assert (await call(app, {})).session.role == "guest"
    assert (await call(app, {"x-hasura-admin-secret": ADMIN})).session.role == "admin"
    assert (await call(app, bearer(mint(keys["HS256"])))).session.role == "user"
    empty = middleware(environ={**environ, "HASURA_GRAPHQL_UNAUTHORIZED_ROLE": ""})
    await assert_error(empty, {}, (*INVALID_HEADERS, MISSING))
