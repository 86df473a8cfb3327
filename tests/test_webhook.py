"""The auth webhook (asgi_hasura_jwt.webhook) under uvicorn, asked with httpx in Hasura's GET
and POST modes: sessions, their end in the body, and a 401 for every failure."""

from __future__ import annotations

import json
import logging
import math
from email.utils import formatdate
from typing import Any

import pytest

from asgi_hasura_jwt.testing import NAMESPACE, SigningKey, mint

from .webhook_helpers import (
    CONFIG,
    KEY,
    MODES,
    NOW,
    ask,
    bearer,
    claims,
    error,
    token,
    webhook,
)

pytestmark = pytest.mark.network

MISSING = "Missing 'Authorization' or 'Cookie' header in JWT authentication mode"


@pytest.mark.parametrize("mode", MODES)
async def test_a_token_becomes_session_variables_with_its_end(mode: str) -> None:
    async with webhook() as client:
        response = await ask(client, mode, bearer(token()))
        again = await ask(client, mode, bearer(token()))  # a cache hit: the same answer
        editor = await ask(client, mode, {**bearer(token()), "X-Hasura-Role": "editor"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    # Hasura reads the end from the body, "Cache-Control" first, then "Expires".
    assert response.json() == {
        "X-Hasura-User-Id": "user-1",
        "X-Hasura-Org-Id": "42",
        "X-Hasura-Role": "user",
        "Cache-Control": "max-age=90",
        "Expires": formatdate(NOW + 90, usegmt=True),
    }
    assert again.content == response.content
    assert editor.json()["X-Hasura-Role"] == "editor"


@pytest.mark.parametrize(
    ("overrides", "config", "end"),
    [
        ({"exp": None}, {}, None),  # no exp: Hasura keeps the socket without a deadline
        ({"exp": NOW + 30.7}, {}, 30),  # whole seconds, rounded down
        ({"exp": NOW - 10}, {"allowed_skew": 25}, 15),  # the skew: accepted 15 s more
        ({"exp": 2**62}, {}, "no Expires"),  # past year 9999: Cache-Control alone
    ],
)
async def test_the_end_of_the_session(
    overrides: dict[str, Any], config: dict[str, Any], end: Any
) -> None:
    async with webhook(jwt_secret={**CONFIG, **config}) as client:
        body = (await ask(client, "GET", bearer(token(**overrides)))).json()
    assert body["X-Hasura-Role"] == "user"
    if end is None:
        assert "Cache-Control" not in body
        assert "Expires" not in body
    elif end == "no Expires":
        assert body["Cache-Control"] == f"max-age={math.floor(2.0**62 - NOW)}"
        assert "Expires" not in body
    else:
        assert body["Cache-Control"] == f"max-age={end}"
        assert body["Expires"] == formatdate(NOW + end, usegmt=True)


@pytest.mark.parametrize("mode", MODES)
async def test_admin_secret_and_unauthorized_role_follow_the_middleware(mode: str) -> None:
    async with webhook(admin_secret="s3cret", unauthorized_role="anonymous") as client:
        admin = await ask(client, mode, {"X-Hasura-Admin-Secret": "s3cret", "X-Hasura-Org-Id": "7"})
        wrong = await ask(client, mode, {"X-Hasura-Admin-Secret": "nope", **bearer(token())})
        anonymous = await ask(client, mode, {"X-Hasura-Role": "admin"})
    assert admin.json() == {"X-Hasura-Org-Id": "7", "X-Hasura-Role": "admin"}
    assert error(wrong) == (
        401,
        "access-denied",
        "invalid x-hasura-admin-secret/x-hasura-access-key",
    )
    assert anonymous.json() == {"X-Hasura-Role": "anonymous"}


OTHER_KEY = SigningKey.hmac("another-hmac-secret-that-is-at-least-thirty-two-bytes-long")


def failures() -> list[tuple[str, dict[str, str], str, str]]:
    """(case, request headers, code, message): every failure kind, all answered 401."""
    no_roles = claims(**{NAMESPACE: {"x-hasura-user-id": "u"}})
    return [
        ("no token", {}, "invalid-headers", MISSING),
        (
            "not bearer",
            {"Authorization": "Basic dTpw"},
            "invalid-headers",
            "Malformed Authorization header",
        ),
        (
            "not a jwt",
            bearer("abc"),
            "invalid-jwt",
            "Could not verify JWT: JWSError (CompactDecodeError Invalid number of parts:"
            " Expected 3 parts; got 1)",
        ),
        ("expired", bearer(token(exp=NOW - 1)), "invalid-jwt", "Could not verify JWT: JWTExpired"),
        (
            "signature",
            bearer(mint(OTHER_KEY, claims())),
            "invalid-jwt",
            "Could not verify JWT: JWSError JWSInvalidSignature",
        ),
        (
            "issuer",
            bearer(token(iss="https://elsewhere")),
            "invalid-jwt",
            "Could not verify JWT: JWTNotInIssuer",
        ),
        (
            "role",
            {**bearer(token()), "X-Hasura-Role": "admin"},
            "access-denied",
            "Your requested role is not in allowed roles",
        ),
        (
            "role claims",
            bearer(mint(KEY, no_roles)),
            "jwt-missing-role-claims",
            "JWT claim does not contain x-hasura-allowed-roles",
        ),
        (
            "claims",
            bearer(token(**{NAMESPACE: "x"})),
            "jwt-invalid-claims",
            "expecting a json object when claims_format is json",
        ),
        (
            "two tokens",
            {"Authorization": f"Bearer {token()}", "authorization": f"Bearer {token()}"},
            "invalid-headers",
            "Could not verify JWT: Multiple JWTs found",
        ),
        (
            "azp",
            bearer(token(azp="https://evil.example")),
            "invalid-jwt",
            "Could not verify JWT: JWTNotInAuthorizedParties: azp is not an authorized party",
        ),
    ]


@pytest.mark.parametrize("mode", MODES)
async def test_every_failure_is_a_401_with_hasuras_body(mode: str) -> None:
    async with webhook(authorized_parties=["https://app.example"]) as client:
        for case, headers, code, message in failures():
            response = await ask(client, mode, headers)
            assert error(response) == (401, code, message), case
            assert response.headers["www-authenticate"] == "Bearer", case
            assert response.headers["cache-control"] == "no-store", case


def too_big() -> bytes:
    return json.dumps({"headers": {"X-Pad": "x" * 65536}}).encode()


BAD_BODIES = [
    (b"{", "the body is not valid JSON (invalid JSON)"),
    (b'{"headers": {}, "headers": {}}', "the body is not valid JSON (duplicate member name)"),
    (b'{"headers": {"a": NaN}}', "the body is not valid JSON (NaN is not valid JSON)"),
    ('{"headers": {"a": "\xff"}}'.encode("latin-1"), "the body is not valid JSON (not UTF-8)"),
    (b"[]", 'expected a JSON object with a "headers" object'),
    (b'{"request": {}}', 'expected a JSON object with a "headers" object'),
    (b'{"headers": ["Authorization"]}', 'expected a JSON object with a "headers" object'),
    (b'{"headers": {"Authorization": 1}}', "the value of every header must be a string"),
    (b'{"headers": {"Authorization": null}}', "the value of every header must be a string"),
    (
        b'{"headers": {"Bad Name": "x"}}',
        "header names must be HTTP tokens (RFC 9110 section 5.6.2)",
    ),
    (b'{"headers": {"": "x"}}', "header names must be HTTP tokens (RFC 9110 section 5.6.2)"),
    (
        b'{"headers": {"X-Hasura-Org": "1\\r\\nX: y"}}',
        "header values must not contain control characters",
    ),
    (
        b'{"headers": {"X-Hasura-Org": "\\u0000"}}',
        "header values must not contain control characters",
    ),
]


async def test_a_bad_post_body_is_a_401_never_a_400_or_500() -> None:
    async with webhook(unauthorized_role="anonymous") as client:
        for body, message in BAD_BODIES:
            response = await client.post("/auth", content=body)
            assert error(response) == (401, "invalid-headers", f"webhook request: {message}"), body
        big = f"webhook request: the body is over {64 * 1024} bytes"
        assert error(await client.post("/auth", content=too_big())) == (401, "invalid-headers", big)

        async def chunks() -> Any:  # no content-length: the limit applies as the body arrives
            for _ in range(3):
                yield b" " * 40000

        response = await client.post("/auth", content=chunks())
        assert error(response) == (401, "invalid-headers", big)
        # The connection is still good after a refused body.
        assert (await client.post("/auth", json={"headers": {}})).status_code == 200


async def test_routes_methods_and_health() -> None:
    async with webhook() as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, [])  # no remote key set to wait for
        put = await client.put("/auth")
        assert (put.status_code, put.headers["allow"]) == (405, "GET, POST")
        assert (await client.get("/auth/")).status_code == 404
        assert (await client.get("/")).status_code == 404


async def test_an_unexpected_failure_is_a_401_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    def clock() -> float:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("clock broke")
        return NOW

    caplog.set_level(logging.ERROR, "asgi_hasura_jwt")
    async with webhook(clock=clock, token_cache_size=0) as client:
        response = await ask(client, "GET", bearer(token()))
    assert error(response) == (401, "invalid-jwt", "Could not verify JWT: internal error")
    assert "clock broke" not in response.text
    assert any(record.exc_info for record in caplog.records)
