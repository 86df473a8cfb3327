"""The config's "clerk" object (spec 6, ours): token kinds, pending sessions, the default
session mapping and the __client_uat rule, with Clerk-shaped tokens of every kind."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from asgi_hasura_jwt import ConfigError, HasuraJWTMiddleware
from asgi_hasura_jwt._clerk import (
    IGNORE_CATEGORY,
    MACHINE_CATEGORY,
    PENDING_MESSAGE,
    SESSION_CATEGORY,
    STALE_MESSAGE,
    TEMPLATE_CATEGORY,
)

from .clerk_tokens import (
    ISSUER,
    KID,
    USER,
    clerk_token,
    machine_claims,
    session_claims,
    template_claims,
)
from .conftest import SigningKey, call, echo_app, middleware

WRONG_TYP = "Could not verify JWT: JWTUnexpectedType: the token's typ is not JWT"
NOT_SESSION = "Could not verify JWT: JWTWrongCategory: not a Clerk session token"
NOT_TEMPLATE = "Could not verify JWT: JWTWrongCategory: not a Clerk JWT-template token"
MACHINE = "Could not verify JWT: JWTMachineToken: machine-to-machine tokens are not accepted"
# The README's __session recipe: literal roles, the user id from $.sub.
RECIPE_MAP = {
    "x-hasura-allowed-roles": ["user"],
    "x-hasura-default-role": "user",
    "x-hasura-user-id": {"path": "$.sub"},
}


def config(key: SigningKey, clerk: Any, **fields: Any) -> dict[str, Any]:
    return {**key.config, "issuer": ISSUER, "clerk": clerk, **fields}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cookies(token: str, client_uat: str | None = None, name: str = "__session") -> dict[str, str]:
    uat = "" if client_uat is None else f"__client_uat{name[9:]}={client_uat}; "
    return {"Cookie": f"{uat}{name}={token}"}


SESSION_COOKIE = {"type": "Cookie", "name": "__session"}


# --- the "clerk" object is validated at construction -------------------------------------------


@pytest.mark.parametrize(
    ("clerk", "message"),
    [
        ("session", "clerk: expected a JSON object"),
        (None, "clerk: expected a JSON object"),
        (["session"], "clerk: expected a JSON object"),
        ({"token": "m2m"}, "clerk: token must be 'template' or 'session'"),
        ({"token": "Session"}, "clerk: token must be 'template' or 'session'"),
        ({"token": None}, "clerk: token must be 'template' or 'session'"),
        ({"pending": "signed-out"}, "clerk: pending must be 'signed_out' or 'allow'"),
        ({"pending": True}, "clerk: pending must be 'signed_out' or 'allow'"),
        ({"tokn": "session"}, "clerk: unknown member 'tokn' (expected token, pending)"),
        ({"token": "session", "client_uat": False}, "clerk: unknown member 'client_uat'"),
    ],
)
def test_clerk_object_is_validated(keys: dict[str, SigningKey], clerk: Any, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        HasuraJWTMiddleware(echo_app, jwt_secret=config(keys["RS256"], clerk), environ={})
    assert str(raised.value).startswith(message)


async def test_defaults_are_template_and_signed_out(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    app = middleware(jwt_secret=config(key, {}))
    ok = await call(app, bearer(clerk_token(key, template_claims(), cat=TEMPLATE_CATEGORY)))
    assert ok.status == 200, ok.body
    refused = await call(app, bearer(clerk_token(key, template_claims(), cat=SESSION_CATEGORY)))
    assert refused.error() == (400, "invalid-jwt", NOT_TEMPLATE)
    pending = await call(app, bearer(clerk_token(key, template_claims(sts="pending"))))
    assert pending.error() == (400, "invalid-headers", PENDING_MESSAGE)


# --- token kinds -------------------------------------------------------------------------------

TEMPLATE = {"token": "template"}
SESSION = {"token": "session"}


@pytest.mark.parametrize(
    ("clerk", "header", "expected"),
    [
        # JWT templates: cat template, "ignore" or none (older tokens).
        (TEMPLATE, {"cat": TEMPLATE_CATEGORY}, None),
        (TEMPLATE, {"cat": IGNORE_CATEGORY}, None),
        (TEMPLATE, {}, None),
        (TEMPLATE, {"cat": SESSION_CATEGORY}, NOT_TEMPLATE),
        (TEMPLATE, {"cat": MACHINE_CATEGORY}, NOT_TEMPLATE),
        (TEMPLATE, {"cat": "cl_B7d4PD444AAA"}, NOT_TEMPLATE),
        (TEMPLATE, {"cat": ""}, NOT_TEMPLATE),
        (TEMPLATE, {"cat": ["cl_B7d4PD222AAA"]}, NOT_TEMPLATE),
        (TEMPLATE, {"cat": "cl_b7d4pd222aaa"}, NOT_TEMPLATE),  # categories are exact
        # Session tokens likewise.
        (SESSION, {"cat": SESSION_CATEGORY}, None),
        (SESSION, {"cat": IGNORE_CATEGORY}, None),
        (SESSION, {}, None),
        (SESSION, {"cat": TEMPLATE_CATEGORY}, NOT_SESSION),
        (SESSION, {"cat": MACHINE_CATEGORY}, NOT_SESSION),
        # typ: absent or JWT in any case (RFC 7515 4.1.9), with or without application/.
        (TEMPLATE, {"typ": None}, None),
        (TEMPLATE, {"typ": "jwt"}, None),
        (TEMPLATE, {"typ": "application/JWT"}, None),
        (TEMPLATE, {"typ": "at+jwt"}, WRONG_TYP),  # OAuth access tokens (RFC 9068)
        (SESSION, {"typ": "application/at+jwt"}, WRONG_TYP),
        (SESSION, {"typ": "JWS"}, WRONG_TYP),
        (SESSION, {"typ": ""}, WRONG_TYP),
        (SESSION, {"typ": 1}, WRONG_TYP),
        (SESSION, {"typ": "JW\u0162"}, WRONG_TYP),  # Unicode look-alikes are not JWT
        # typ is checked before cat.
        (SESSION, {"typ": "at+jwt", "cat": MACHINE_CATEGORY}, WRONG_TYP),
    ],
)
async def test_token_kinds(
    keys: dict[str, SigningKey], clerk: dict[str, str], header: dict[str, Any], expected: str | None
) -> None:
    key = keys["RS256"]
    claims = template_claims() if clerk is TEMPLATE else session_claims()
    result = await call(
        middleware(jwt_secret=config(key, clerk)), bearer(clerk_token(key, claims, **header))
    )
    if expected is None:
        assert result.status == 200, result.body
        assert result.session["x-hasura-user-id"] == USER
    else:
        assert result.error() == (400, "invalid-jwt", expected)
        assert result.scope is None


@pytest.mark.parametrize("clerk", [TEMPLATE, SESSION])
@pytest.mark.parametrize("header", [{"cat": MACHINE_CATEGORY}, {"cat": IGNORE_CATEGORY}, {}])
async def test_machine_tokens_are_refused(
    keys: dict[str, SigningKey], clerk: dict[str, str], header: dict[str, str]
) -> None:
    key = keys["RS256"]
    app = middleware(jwt_secret=config(key, clerk, claims_map=RECIPE_MAP))
    result = await call(app, bearer(clerk_token(key, machine_claims(), **header)))
    expected = (
        MACHINE
        if header.get("cat") != MACHINE_CATEGORY
        else (NOT_SESSION if clerk is SESSION else NOT_TEMPLATE)
    )
    assert result.error() == (400, "invalid-jwt", expected)


async def test_without_the_clerk_object_machine_tokens_pass(keys: dict[str, SigningKey]) -> None:
    # The issue's finding, kept for configs that do not opt in (Hasura has no such rule): with
    # the README's recipe, an M2M token of the same instance maps to a user session.
    key = keys["RS256"]
    recipe = {**key.config, "issuer": ISSUER, "header": SESSION_COOKIE, "claims_map": RECIPE_MAP}
    token = clerk_token(key, machine_claims(), cat=MACHINE_CATEGORY)
    result = await call(middleware(jwt_secret=recipe), cookies(token))
    assert result.status == 200
    with_clerk = {**recipe, "clerk": SESSION}
    refused = await call(middleware(jwt_secret=with_clerk), cookies(token, str(int(time.time()))))
    assert refused.error() == (400, "invalid-jwt", NOT_SESSION)


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"exp": 1}, "Could not verify JWT: JWTExpired"),
        ({"iss": "https://other.example"}, "Could not verify JWT: JWTNotInIssuer"),
    ],
)
async def test_standard_claims_come_before_the_kind(
    keys: dict[str, SigningKey], claims: dict[str, Any], expected: str
) -> None:
    key = keys["RS256"]
    token = clerk_token(key, {**machine_claims(), **claims}, cat=MACHINE_CATEGORY)
    result = await call(middleware(jwt_secret=config(key, SESSION)), bearer(token))
    assert result.error() == (400, "invalid-jwt", expected)


async def test_signature_comes_before_the_kind(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    token = clerk_token(key, machine_claims(), cat=MACHINE_CATEGORY, typ="at+jwt")
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    result = await call(middleware(jwt_secret=config(key, SESSION)), bearer(forged))
    assert result.error() == (
        400,
        "invalid-jwt",
        "Could not verify JWT: JWSError JWSInvalidSignature",
    )


async def test_messages_never_echo_the_token(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    token = clerk_token(key, machine_claims(), typ="at+jwt")
    result = await call(middleware(jwt_secret=config(key, SESSION)), bearer(token))
    for part in token.split("."):
        assert part.encode() not in result.body
    assert b"mch_" not in result.body


# --- pending sessions (sts) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clerk", "sts", "unauthorized", "expected"),
    [
        (SESSION, "pending", None, (400, "invalid-headers", PENDING_MESSAGE)),
        ({**SESSION, "pending": "signed_out"}, "pending", "anonymous", "anonymous"),
        ({**SESSION, "pending": "allow"}, "pending", None, "user"),
        ({**SESSION, "pending": "allow"}, "pending", "anonymous", "user"),
        (SESSION, "active", None, "user"),
        (SESSION, None, None, "user"),  # version 1 tokens carry no sts
        (SESSION, "Pending", None, "user"),  # Clerk's SDK compares exactly
        (TEMPLATE, "pending", None, (400, "invalid-headers", PENDING_MESSAGE)),
    ],
)
async def test_pending_sessions(
    keys: dict[str, SigningKey],
    clerk: dict[str, str],
    sts: str | None,
    unauthorized: str | None,
    expected: Any,
) -> None:
    key = keys["RS256"]
    claims = (
        session_claims(sts=sts) if clerk.get("token") == "session" else template_claims(sts=sts)
    )
    app = middleware(jwt_secret=config(key, clerk), unauthorized_role=unauthorized)
    headers = {**bearer(clerk_token(key, claims)), "x-hasura-user-id": "from-header"}
    result = await call(app, headers)
    if isinstance(expected, tuple):
        assert result.error() == expected
        return
    assert result.status == 200, result.body
    assert result.session.role == expected
    if expected == "anonymous":
        # Exactly spec 2.3: the request's x-hasura-* headers, no claims, no expiry.
        assert dict(result.session) == {
            "x-hasura-user-id": "from-header",
            "x-hasura-role": "anonymous",
        }
        assert dict(result.session.claims) == {}
        assert result.session.expires_at is None
    else:
        assert result.session["x-hasura-user-id"] == USER


async def test_pending_and_invalid_never_falls_back(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    app = middleware(jwt_secret=config(key, SESSION), unauthorized_role="anonymous")
    expired = clerk_token(key, session_claims(sts="pending", exp=1))
    result = await call(app, bearer(expired))
    assert result.error() == (400, "invalid-jwt", "Could not verify JWT: JWTExpired")
    machine = clerk_token(key, {**machine_claims(), "sts": "pending"})
    result = await call(app, bearer(machine))
    assert result.error() == (400, "invalid-jwt", MACHINE)


# --- the default session mapping ({"token": "session"}, no claims_map) ------------------------


@pytest.mark.parametrize(
    ("claims", "organization"),
    [
        pytest.param({}, {}, id="v2-no-org"),
        pytest.param(
            {"o": {"id": "org_1", "slg": "acme", "rol": "admin", "per": "read", "fpm": "1"}},
            {
                "x-hasura-org-id": "org_1",
                "x-hasura-org-slug": "acme",
                "x-hasura-org-role": "org:admin",
            },
            id="v2-org",
        ),
        pytest.param({"o": {"id": "org_1"}}, {"x-hasura-org-id": "org_1"}, id="v2-org-id-only"),
        pytest.param(
            {
                "v": None,
                "sts": None,
                "org_id": "org_1",
                "org_slug": "acme",
                "org_role": "org:admin",
            },
            {
                "x-hasura-org-id": "org_1",
                "x-hasura-org-slug": "acme",
                "x-hasura-org-role": "org:admin",
            },
            id="v1-org",
        ),
        # Clerk's SDKs read o for v2 and org_* otherwise, never both.
        pytest.param({"org_id": "org_custom"}, {}, id="v2-ignores-v1-claims"),
        pytest.param({"v": None, "o": {"id": "org_1"}}, {}, id="v1-ignores-o"),
    ],
)
async def test_default_session_mapping(
    keys: dict[str, SigningKey], claims: dict[str, Any], organization: dict[str, str]
) -> None:
    key = keys["RS256"]
    token = clerk_token(key, session_claims(**claims), cat=SESSION_CATEGORY)
    result = await call(middleware(jwt_secret=config(key, SESSION)), bearer(token))
    assert result.status == 200, result.body
    assert dict(result.session) == {
        "x-hasura-user-id": USER,
        **organization,
        "x-hasura-role": "user",
    }


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (
            {"o": {"id": 7}},
            "x-hasura-* claims: parsing Text failed, expected String, but encountered Number",
        ),
        (
            {"o": {"id": "org_1", "slg": None}},
            "x-hasura-* claims: parsing Text failed, expected String, but encountered Null",
        ),
        (
            {"o": {"rol": ["admin"]}},
            "x-hasura-* claims: parsing Text failed, expected String, but encountered Array",
        ),
        (
            {"v": None, "org_role": True},
            "x-hasura-* claims: parsing Text failed, expected String, but encountered Boolean",
        ),
        ({"o": "org_1"}, "Clerk session token: o is not a JSON object"),
        ({"o": None}, "Clerk session token: o is not a JSON object"),
        ({"sub": None}, "Clerk session token: sub not found"),
        ({"o": {"id": "org\n1"}}, "x-hasura-* claims: x-hasura-org-id contains CR, LF or NUL"),
    ],
)
async def test_default_session_mapping_refuses(
    keys: dict[str, SigningKey], claims: dict[str, Any], message: str
) -> None:
    key = keys["RS256"]
    raw = session_claims()
    raw.update(claims)  # None stays: a present null
    if claims.get("sub", "") is None:
        del raw["sub"]
    result = await call(middleware(jwt_secret=config(key, SESSION)), bearer(clerk_token(key, raw)))
    assert result.error() == (400, "jwt-invalid-claims", message)


async def test_claims_map_wins_over_the_default_mapping(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    mapped = {**RECIPE_MAP, "x-hasura-session-id": {"path": "$.sid"}}
    app = middleware(jwt_secret=config(key, SESSION, claims_map=mapped))
    token = clerk_token(key, session_claims(o={"id": "org_1"}))
    result = await call(app, bearer(token))
    assert dict(result.session) == {
        "x-hasura-user-id": USER,
        "x-hasura-session-id": "sess_2abcdefghijklmnopqrstuvwxyz",
        "x-hasura-role": "user",
    }


async def test_the_session_role_is_user_only(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    token = clerk_token(key, session_claims())
    app = middleware(jwt_secret=config(key, SESSION))
    result = await call(app, {**bearer(token), "x-hasura-role": "admin"})
    assert result.error() == (400, "access-denied", "Your requested role is not in allowed roles")


# --- __client_uat (session tokens in a cookie) -------------------------------------------------


@pytest.mark.parametrize(
    ("client_uat", "expected"),
    [
        (None, "user"),  # nothing to compare: an API client, not a browser
        ("IAT", "user"),
        ("IAT-1", "user"),
        ("IAT+1", "stale"),  # signed in again after this token was issued
        ("0", "stale"),  # signed out
        ("", "stale"),
        ("soon", "stale"),  # Clerk: parseInt(...) || 0
        ("-5", "stale"),
        ("%D9%A1%D9%A2", "stale"),  # Arabic-Indic digits (URL-encoded) are no number here
    ],
)
@pytest.mark.parametrize("unauthorized", [None, "anonymous"])
async def test_client_uat(
    keys: dict[str, SigningKey], client_uat: str | None, expected: str, unauthorized: str | None
) -> None:
    key = keys["RS256"]
    claims = session_claims()
    iat = claims["iat"]
    if client_uat is not None and client_uat.startswith("IAT"):
        client_uat = str(iat + int(client_uat[3:] or 0))
    app = middleware(
        jwt_secret=config(key, SESSION, header=SESSION_COOKIE), unauthorized_role=unauthorized
    )
    result = await call(app, cookies(clerk_token(key, claims), client_uat))
    if expected == "user":
        assert result.status == 200, result.body
        assert result.session["x-hasura-user-id"] == USER
    elif unauthorized is None:
        assert result.error() == (400, "invalid-headers", STALE_MESSAGE)
    else:
        assert dict(result.session) == {"x-hasura-role": "anonymous"}


@pytest.mark.parametrize(
    ("values", "stale"),
    [
        (["IAT", "IAT"], False),
        (["IAT-100", "IAT"], False),
        (["IAT", "IAT+1"], True),  # the latest sign-in counts
        (["IAT", "0"], True),  # any signed-out one wins
    ],
)
async def test_several_client_uat_cookies(
    keys: dict[str, SigningKey], values: list[str], stale: bool
) -> None:
    key = keys["RS256"]
    claims = session_claims()
    uats = "; ".join(
        "__client_uat=" + (str(claims["iat"] + int(v[3:] or 0)) if v.startswith("IAT") else v)
        for v in values
    )
    token = clerk_token(key, claims)
    app = middleware(jwt_secret=config(key, SESSION, header=SESSION_COOKIE))
    result = await call(app, [("Cookie", uats), ("Cookie", f"__session={token}")])
    if stale:
        assert result.error() == (400, "invalid-headers", STALE_MESSAGE)
    else:
        assert result.status == 200, result.body


async def test_client_uat_follows_the_cookie_suffix(keys: dict[str, SigningKey]) -> None:
    # Clerk suffixes its cookies per instance: __session_<id> goes with __client_uat_<id>.
    key = keys["RS256"]
    location = {"type": "Cookie", "name": "__session_Xy12AbCd"}
    app = middleware(jwt_secret=config(key, SESSION, header=location))
    token = clerk_token(key, session_claims())
    stale = await call(app, cookies(token, "0", name="__session_Xy12AbCd"))
    assert stale.error() == (400, "invalid-headers", STALE_MESSAGE)
    other_suffix = {"Cookie": f"__client_uat=0; __session_Xy12AbCd={token}"}
    assert (await call(app, other_suffix)).status == 200
    plain = {"type": "Cookie", "name": "clerk_token"}  # not Clerk's name: __client_uat itself
    app = middleware(jwt_secret=config(key, SESSION, header=plain))
    result = await call(app, {"Cookie": f"__client_uat=0; clerk_token={token}"})
    assert result.error() == (400, "invalid-headers", STALE_MESSAGE)


@pytest.mark.parametrize(
    ("clerk", "location"),
    [
        (SESSION, None),  # Authorization: getToken() tokens carry no browser state
        (TEMPLATE, SESSION_COOKIE),  # only session tokens live in the __session cookie
        ({**SESSION, "pending": "allow"}, {"type": "CustomHeader", "name": "x-clerk"}),
    ],
)
async def test_client_uat_applies_to_session_cookies_only(
    keys: dict[str, SigningKey], clerk: dict[str, str], location: dict[str, str] | None
) -> None:
    key = keys["RS256"]
    fields = {} if location is None else {"header": location}
    claims = template_claims() if clerk is TEMPLATE else session_claims()
    token = clerk_token(key, claims)
    headers = {"Cookie": "__client_uat=0"}
    if location is None:
        headers.update(bearer(token))
    elif location["type"] == "Cookie":
        headers = cookies(token, "0")
    else:
        headers["x-clerk"] = token
    result = await call(middleware(jwt_secret=config(key, clerk, **fields)), headers)
    assert result.status == 200, result.body


async def test_stale_and_invalid_never_falls_back(keys: dict[str, SigningKey]) -> None:
    key = keys["RS256"]
    app = middleware(
        jwt_secret=config(key, SESSION, header=SESSION_COOKIE), unauthorized_role="anonymous"
    )
    for token, expected in [
        (clerk_token(key, session_claims(exp=1)), "Could not verify JWT: JWTExpired"),
        (clerk_token(key, session_claims(), cat=MACHINE_CATEGORY), NOT_SESSION),
        ("not.a.token", None),
    ]:
        result = await call(app, cookies(token, "0"))
        status, code, message = result.error()
        assert (status, code) == (400, "invalid-jwt")
        if expected is not None:
            assert message == expected


def test_clerk_token_header_is_what_clerk_sends(keys: dict[str, SigningKey]) -> None:
    from asgi_hasura_jwt._strict import b64url_decode

    token = clerk_token(keys["RS256"], session_claims(), cat=SESSION_CATEGORY)
    header = json.loads(b64url_decode(token.split(".")[0].encode()))
    assert header == {"alg": "RS256", "kid": KID, "typ": "JWT", "cat": SESSION_CATEGORY}


def test_clerk_object_is_checked_after_hasura_fields(keys: dict[str, SigningKey]) -> None:
    bad_map = {"x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user", "user": "x"}
    with pytest.raises(ConfigError) as raised:
        HasuraJWTMiddleware(
            echo_app, jwt_secret=config(keys["RS256"], "bad", claims_map=bad_map), environ={}
        )
    assert str(raised.value) == "claims_map: user does not start with x-hasura-"
