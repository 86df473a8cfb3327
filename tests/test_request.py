"""Header text (spec 2.2): UTF-8, leniently, as Hasura's ``bsToTxt`` reads it; never latin-1.

Requests are built from raw header bytes, as a server hands them over.
"""

from __future__ import annotations

from typing import Any

import pytest

from asgi_hasura_jwt._request import header_text

from .conftest import HMAC_SECRET, NAMESPACE, SigningKey, call, hasura_claims, middleware, mint

HS = {"type": "HS256", "key": HMAC_SECRET}
ADMIN = "admin-secret-value"
NOT_ALLOWED = (400, "access-denied", "Your requested role is not in allowed roles")


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"plain", "plain"),
        ("josé".encode(), "josé"),
        ("编辑 \U0001f600".encode(), "编辑 \U0001f600"),
        (b"r\xe9dacteur", "r\ufffddacteur"),  # latin-1 bytes are not UTF-8
        # Haskell's lenientDecode replaces each invalid byte; Python's "replace" would give
        # one U+FFFD for the truncated sequence.
        (b"\xe2\x80x", "\ufffd\ufffdx"),
        (b"\xed\xa0\x80", "\ufffd\ufffd\ufffd"),  # an encoded surrogate is not UTF-8
        (b"\xff\xfe", "\ufffd\ufffd"),
    ],
)
def test_header_text_is_lenient_utf8(raw: bytes, text: str) -> None:
    assert header_text(raw) == text


def bearer(token: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {token}".encode())


async def test_a_utf8_role_is_selected(keys: dict[str, SigningKey]) -> None:
    token = mint(keys["HS256"], {NAMESPACE: hasura_claims(roles=["user", "rédacteur"])})
    result = await call(
        middleware(jwt_secret=HS),
        raw_headers=[bearer(token), (b"x-hasura-role", "rédacteur".encode())],
    )
    assert result.status == 200, result.body
    assert result.session.role == "rédacteur"


async def test_a_latin1_reading_no_longer_matches(keys: dict[str, SigningKey]) -> None:
    # "rédacteur" in UTF-8 read as latin-1 is "rÃ©dacteur": a token allowing that is refused.
    token = mint(keys["HS256"], {NAMESPACE: hasura_claims(roles=["user", "rÃ©dacteur"])})
    result = await call(
        middleware(jwt_secret=HS),
        raw_headers=[bearer(token), (b"x-hasura-role", "rédacteur".encode())],
    )
    assert result.error() == NOT_ALLOWED


async def test_invalid_bytes_in_a_role_become_replacement_characters(
    keys: dict[str, SigningKey],
) -> None:
    token = mint(keys["HS256"], {NAMESPACE: hasura_claims(roles=["user", "\ufffd\ufffdx"])})
    result = await call(
        middleware(jwt_secret=HS), raw_headers=[bearer(token), (b"x-hasura-role", b"\xe2\x80x")]
    )
    assert result.session.role == "\ufffd\ufffdx"


async def test_admin_session_variables_are_utf8() -> None:
    result = await call(
        middleware(jwt_secret=HS, admin_secret=ADMIN),
        raw_headers=[
            (b"x-hasura-admin-secret", ADMIN.encode()),
            (b"x-hasura-role", "rédacteur".encode()),
            (b"x-hasura-user-id", "josé".encode()),
            (b"x-hasura-org", b"caf\xe9"),
        ],
    )
    assert dict(result.session) == {
        "x-hasura-role": "rédacteur",
        "x-hasura-user-id": "josé",
        "x-hasura-org": "caf\ufffd",
    }


async def test_unauthorized_role_session_variables_are_utf8() -> None:
    result = await call(
        middleware(jwt_secret=HS, unauthorized_role="anonymous"),
        raw_headers=[(b"x-hasura-user-id", "josé".encode())],
    )
    assert dict(result.session) == {"x-hasura-user-id": "josé", "x-hasura-role": "anonymous"}


LOCATIONS = {
    "Authorization": (HS, lambda token: (b"authorization", b"Bearer " + token)),
    "Cookie": (
        {**HS, "header": {"type": "Cookie", "name": "t"}},
        lambda token: (b"cookie", b"t=" + token),
    ),
    "CustomHeader": (
        {**HS, "header": {"type": "CustomHeader", "name": "x-token"}},
        lambda token: (b"x-token", token),
    ),
}


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize(
    ("damage", "segment"),
    [
        (lambda h, p, s: [h, p, s + "é".encode()], "signature"),
        (lambda h, p, s: [h, p, s + b"\xff"], "signature"),
        (lambda h, p, s: [h, b"\xc3" + p, s], "payload"),
        (lambda h, p, s: [b"\xe2\x80" + h, p, s], "header"),
    ],
)
async def test_a_non_ascii_token_is_refused_as_before(
    keys: dict[str, SigningKey], location: str, damage: Any, segment: str
) -> None:
    # Tokens are ASCII: a non-ASCII byte fails strict base64url, as it did read as latin-1.
    config, header = LOCATIONS[location]
    token = b".".join(damage(*mint(keys["HS256"]).encode().split(b".")))
    result = await call(middleware(jwt_secret=config), raw_headers=[header(token)])
    assert result.error() == (
        400,
        "invalid-jwt",
        f"Could not verify JWT: JWSError (CompactDecodeError Invalid {segment}: invalid base64url "
        "character)",
    )


# --- headers_carrying: a bare token presented as a client of a config would -----------------


@pytest.mark.parametrize(
    ("location", "role", "expected"),
    [
        (("Authorization", ""), None, [(b"authorization", b"Bearer a.b.c")]),
        (
            ("Authorization", ""),
            "rédacteur",
            [(b"authorization", b"Bearer a.b.c"), (b"x-hasura-role", "rédacteur".encode())],
        ),
        (("Cookie", "__session"), None, [(b"cookie", b"__session=a.b.c")]),
        (
            ("CustomHeader", "x-token"),
            "user",
            [(b"x-token", b"a.b.c"), (b"x-hasura-role", b"user")],
        ),
    ],
)
def test_headers_carrying(
    location: tuple[str, str], role: str | None, expected: list[tuple[bytes, bytes]]
) -> None:
    from asgi_hasura_jwt._config import TokenLocation
    from asgi_hasura_jwt._request import headers_carrying

    assert headers_carrying("a.b.c", TokenLocation(*location), role) == expected


@pytest.mark.parametrize("token", ["a.b.c", "a%41;b=c d", "é.\u00e9.x", ""])
def test_headers_carrying_round_trips_cookie_tokens(token: str) -> None:
    # The cookie value is quoted: the parser's URL-decoding gives back exactly the token.
    from asgi_hasura_jwt._config import TokenLocation
    from asgi_hasura_jwt._request import RequestHeaders, headers_carrying

    location = TokenLocation("Cookie", "__session")
    request = RequestHeaders(headers_carrying(token, location))
    assert request.tokens_at(location) == [token]
