"""Spec 4.2: the expiry of a JWKS response from its Cache-Control / Expires headers."""

from __future__ import annotations

import pytest

from asgi_hasura_jwt._jwks.expiry import (
    ExpiryParseError,
    expiry_from_headers,
    parse_cache_control,
    parse_http_date,
)

NOW = 1_611_187_200.0  # 2021-01-21T00:00:00Z, the instant of Hasura's JWTSpec
IN_60_S = "Thu, 21 Jan 2021 00:01:00 GMT"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # Hasura's JWTSpec rows (server/src-test/Hasura/Server/Auth/JWTSpec.hs).
        ([("Expires", IN_60_S), ("Cache-Control", "max-age=10, no-cache")], NOW),
        ([("Expires", IN_60_S), ("Cache-Control", "must-revalidate")], NOW),
        ([("Expires", IN_60_S), ("Cache-Control", "max-age=10, must-revalidate")], NOW + 10),
        ([("Expires", IN_60_S), ("Cache-Control", "max-age=10, no-store")], NOW),
        ([("Expires", IN_60_S), ("Cache-Control", "public, max-age=10")], NOW + 10),
        ([("Expires", IN_60_S), ("Cache-Control", "public, s-maxage=10")], NOW + 10),
        ([("Expires", IN_60_S), ("Cache-Control", "public")], NOW + 60),
        ([("Expires", IN_60_S)], NOW + 60),
        ([("X-SomeOtherHeader", "Irrelevant")], None),
        ([], None),
        # must-revalidate wins over no-cache / no-store, with or without an age.
        ([("Cache-Control", "no-cache, must-revalidate, max-age=5")], NOW + 5),
        ([("Cache-Control", "no-store, must-revalidate")], NOW),
        # no-cache / no-store: now, even with an age and whatever their order.
        ([("Cache-Control", "no-cache")], NOW),
        ([("Cache-Control", "no-store")], NOW),
        ([("Cache-Control", "no-store, max-age=30")], NOW),
        ([("Cache-Control", 'no-cache="set-cookie", max-age=30')], NOW),
        # The first max-age or s-maxage gives the age.
        ([("Cache-Control", "s-maxage=5, max-age=10")], NOW + 5),
        ([("Cache-Control", "max-age=5, max-age=oops")], NOW + 5),
        ([("Cache-Control", "max-age=0")], NOW),
        ([("Cache-Control", 'max-age="7"')], NOW + 7),
        ([("Cache-Control", "max-age=0007")], NOW + 7),
        # RFC 9111 1.2.2: too large counts as 2^31.
        ([("Cache-Control", "max-age=99999999999999999999")], NOW + 2**31),
        ([("Cache-Control", "max-age=" + "9" * 5000)], NOW + 2**31),
        # List syntax recipients accept (RFC 9110 5.6.1): empty elements, OWS, any case.
        ([("Cache-Control", ", ,max-age=10,")], NOW + 10),
        ([("Cache-Control", " \tpublic ,\tmax-age=10 ")], NOW + 10),
        ([("Cache-Control", "MAX-AGE=10")], NOW + 10),
        ([("Cache-Control", "No-Cache")], NOW),
        ([("Cache-Control", 'private="a, b", max-age=10')], NOW + 10),
        ([("Cache-Control", 'x="a \\" b", max-age=10')], NOW + 10),
        # An empty list has no directive: Expires decides.
        ([("Cache-Control", ""), ("Expires", IN_60_S)], NOW + 60),
        # Only the first Cache-Control and the first Expires count.
        ([("Cache-Control", "public"), ("Cache-Control", "max-age=5")], None),
        ([("Expires", IN_60_S), ("Expires", "garbage")], NOW + 60),
        # Header names are case-insensitive.
        ([("cache-control", "max-age=3")], NOW + 3),
        ([("EXPIRES", IN_60_S)], NOW + 60),
        # An Expires in the past is an expiry in the past (the schedule floors it).
        ([("Expires", "Sun, 06 Nov 1994 08:49:37 GMT")], 784111777.0),
    ],
)
def test_expiry(headers: list[tuple[str, str]], expected: float | None) -> None:
    assert expiry_from_headers(headers, NOW) == expected


@pytest.mark.parametrize(
    "headers",
    [
        # Hasura's JWTSpec error rows.
        [("Expires", IN_60_S), ("Cache-Control", "max-age=lolbroken")],
        [("Expires", "lolbroken"), ("Cache-Control", "public")],
        # Non-decimal ages: no fallback to Expires.
        [("Cache-Control", "max-age"), ("Expires", IN_60_S)],
        [("Cache-Control", "max-age=-1")],
        [("Cache-Control", "max-age=1.5")],
        [("Cache-Control", "max-age=10abc")],
        [("Cache-Control", "s-maxage=")],
        [("Cache-Control", 'max-age=""')],
        [("Cache-Control", 'max-age=" 7"')],
        [("Cache-Control", "max-age=\uff17")],
        [("Cache-Control", "max-age=oops, max-age=5")],
        # Malformed lists.
        [("Cache-Control", "max-age=10;"), ("Expires", IN_60_S)],
        [("Cache-Control", "max-age = 10")],
        [("Cache-Control", "max age")],
        [("Cache-Control", "=10")],
        [("Cache-Control", '"quoted"')],
        [("Cache-Control", "public max-age=10")],
        [("Cache-Control", 'max-age="10')],
        [("Cache-Control", "max-age=10\n")],
        [("Cache-Control", "no-cache\x00")],
        # Expires in any form but IMF-fixdate.
        [("Expires", "Sunday, 06-Nov-94 08:49:37 GMT")],
        [("Expires", "Sun Nov  6 08:49:37 1994")],
        [("Expires", "0")],
        [("Expires", "-1")],
        [("Expires", "")],
        [("Expires", "sun, 06 nov 1994 08:49:37 gmt")],
        [("Expires", "Sun, 6 Nov 1994 08:49:37 GMT")],
        [("Expires", "Sun, 06 Nov 94 08:49:37 GMT")],
        [("Expires", "Sun, 06 Nov 1994 08:49:37 UTC")],
        [("Expires", "Sun, 06 Nov 1994 08:49:37 +0000")],
        [("Expires", "Sun, 06 Nov 1994 08:49 GMT")],
        [("Expires", "Sun,  06 Nov 1994 08:49:37 GMT")],
        [("Expires", "Sun, 06 Nov 1994 08:49:37 GMT extra")],
        [("Expires", "Xyz, 06 Nov 1994 08:49:37 GMT")],
        # Impossible dates.
        [("Expires", "Sat, 31 Feb 2024 00:00:00 GMT")],
        [("Expires", "Mon, 06 Nov 1994 24:00:00 GMT")],
        [("Expires", "Mon, 06 Nov 1994 08:60:00 GMT")],
        [("Expires", "Mon, 06 Nov 1994 08:49:60 GMT")],
        [("Expires", "Mon, 00 Nov 1994 08:49:37 GMT")],
        [("Expires", "Mon, 06 Nov 0000 08:49:37 GMT")],
    ],
)
def test_parse_errors(headers: list[tuple[str, str]]) -> None:
    with pytest.raises(ExpiryParseError):
        expiry_from_headers(headers, NOW)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(ExpiryParseError, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784111777.0),
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("Thu, 29 Feb 2024 23:59:59 GMT", 1709251199.0),
        # The weekday name is not checked against the date, as in Hasura.
        ("Mon, 06 Nov 1994 08:49:37 GMT", 784111777.0),
        # Surrounding OWS is not part of a field value (RFC 9110 5.5).
        ("  Sun, 06 Nov 1994 08:49:37 GMT\t", 784111777.0),
    ],
)
def test_parse_http_date(value: str, expected: float) -> None:
    assert parse_http_date(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", []),
        ("public", [("public", None)]),
        ("Max-Age=5, no-cache", [("max-age", "5"), ("no-cache", None)]),
        ('a="x,y", b=c', [("a", "x,y"), ("b", "c")]),
        ('a="q\\"d\\\\"', [("a", 'q"d\\')]),
    ],
)
def test_parse_cache_control(value: str, expected: list[tuple[str, str | None]]) -> None:
    assert parse_cache_control(value) == expected
