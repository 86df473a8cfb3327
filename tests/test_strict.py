"""Spec 7.6: strict JSON and strict base64url for token segments (`_strict.py`), and how their
failures surface from `parse_token`."""

from __future__ import annotations

import base64
import json
import sys
from typing import Any

import pytest

from asgi_hasura_jwt._errors import InvalidJWT
from asgi_hasura_jwt._strict import MAX_DEPTH, StrictDecodeError, b64url_decode, loads
from asgi_hasura_jwt._token import parse_token


def b64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


# --- JSON: accepted ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "value"),
    [
        pytest.param(b"{}", {}, id="empty-object"),
        pytest.param(b' \t\r\n{"a":1} \n', {"a": 1}, id="json-whitespace-around"),
        pytest.param('{"é":"ü"}'.encode(), {"é": "ü"}, id="utf8-non-ascii"),
        pytest.param('{"k":"😀"}'.encode(), {"k": "😀"}, id="utf8-astral"),
        pytest.param(b'{"k":"\\ud83d\\ude00"}', {"k": "😀"}, id="escaped-surrogate-pair"),
        pytest.param(b'{"\\ud83d\\ude00":1}', {"😀": 1}, id="escaped-pair-in-name"),
        pytest.param(b'{"k":"\\u00e9\\n\\t\\"\\\\\\/"}', {"k": 'é\n\t"\\/'}, id="escapes"),
        pytest.param(b'{"k":"\\uFFFF"}', {"k": "\uffff"}, id="noncharacter-is-a-scalar"),
        pytest.param(b'{"a":1,"A":2}', {"a": 1, "A": 2}, id="names-differ-by-case"),
        pytest.param(
            b'{"a":{"b":1},"b":{"a":2}}',
            {"a": {"b": 1}, "b": {"a": 2}},
            id="same-name-in-different-objects",
        ),
        pytest.param(b'[{"a":1},{"a":2}]', [{"a": 1}, {"a": 2}], id="same-name-in-sibling-objects"),
        pytest.param(b"12345678901234567890123", 12345678901234567890123, id="big-integer"),
        pytest.param(b"-1.5e3", -1500.0, id="exponent"),
        pytest.param(b"[true,false,null]", [True, False, None], id="literals"),
        pytest.param(b'"[[[[{{{{"', "[[[[{{{{", id="brackets-in-a-string"),
    ],
)
def test_loads_accepts(data: bytes, value: Any) -> None:
    assert loads(data) == value
    assert loads(data.decode("utf-8")) == value


def test_loads_accepts_the_largest_integer_python_parses() -> None:
    digits = sys.get_int_max_str_digits() or 4300
    assert loads(b"9" * digits) == int("9" * digits)


# --- JSON: refused ----------------------------------------------------------------------------

_OBJ = '{"a":"b"}'


@pytest.mark.parametrize(
    "data",
    [
        # Encodings other than UTF-8 (RFC 7515 5.2: UTF-8 only; json.loads would sniff these).
        pytest.param(_OBJ.encode("utf-16-le"), id="utf-16-le"),
        pytest.param(_OBJ.encode("utf-16-be"), id="utf-16-be"),
        pytest.param(_OBJ.encode("utf-16"), id="utf-16-with-bom"),
        pytest.param(_OBJ.encode("utf-32-le"), id="utf-32-le"),
        pytest.param(_OBJ.encode("utf-32-be"), id="utf-32-be"),
        pytest.param(_OBJ.encode("utf-32"), id="utf-32-with-bom"),
        pytest.param(b"\xef\xbb\xbf" + _OBJ.encode(), id="utf-8-bom"),
        pytest.param('{"a":"é"}'.encode("latin-1"), id="latin-1"),
        pytest.param(b'{"a":"\xc0\xaf"}', id="overlong-utf-8"),
        pytest.param(b'{"a":"\xed\xa0\x80"}', id="utf-8-encoded-surrogate"),
        pytest.param(b'{"a":"\xf4\x90\x80\x80"}', id="beyond-u10ffff"),
        pytest.param(b'{"a":"\xe2\x82"}', id="truncated-utf-8"),
        # No NaN / Infinity, anywhere.
        pytest.param(b"NaN", id="nan"),
        pytest.param(b"Infinity", id="infinity"),
        pytest.param(b"-Infinity", id="minus-infinity"),
        pytest.param(b'{"exp":NaN}', id="nan-member"),
        pytest.param(b'{"a":[1,Infinity]}', id="infinity-in-array"),
        pytest.param(b'{"a":{"b":-Infinity}}', id="minus-infinity-nested"),
        pytest.param(b"nan", id="lower-case-nan"),
        # Duplicate member names (RFC 7515 5.2 / RFC 8725 3.4).
        pytest.param(b'{"a":1,"a":1}', id="duplicate-same-value"),
        pytest.param(b'{"alg":"HS256","alg":"none"}', id="duplicate-alg"),
        pytest.param(b'{"a":{"b":1,"b":2}}', id="duplicate-nested"),
        pytest.param(b'[{"a":1,"a":2}]', id="duplicate-in-array"),
        pytest.param(b'{"a":1,"\\u0061":2}', id="duplicate-after-unescaping"),
        # Lone surrogates (only Unicode scalar values are text).
        pytest.param(b'{"a":"\\ud800"}', id="lone-high-surrogate"),
        pytest.param(b'{"a":"\\udc00"}', id="lone-low-surrogate"),
        pytest.param(b'{"a":"x\\ud83dy"}', id="high-surrogate-then-letter"),
        pytest.param(b'{"a":"\\ude00\\ud83d"}', id="reversed-pair"),
        pytest.param(b'{"a":"\\ud83d\\ud83d"}', id="two-high-surrogates"),
        pytest.param(b'{"\\ud800":1}', id="lone-surrogate-in-name"),
        pytest.param(b'{"a":[{"b":["\\udfff"]}]}', id="lone-surrogate-deep"),
        # Plain syntax errors.
        pytest.param(b"", id="empty"),
        pytest.param(b"   ", id="whitespace-only"),
        pytest.param(b"{} {}", id="two-values"),
        pytest.param(b"{}x", id="trailing-garbage"),
        pytest.param(b'{"a":1,}', id="trailing-comma"),
        pytest.param(b"{'a':1}", id="single-quotes"),
        pytest.param(b'{"a":"line\nbreak"}', id="raw-control-character"),
        pytest.param(b'{"a":01}', id="leading-zero"),
        pytest.param(b'{"a":"\\x41"}', id="unknown-escape"),
        pytest.param(b'{"a":"\\u12"}', id="short-unicode-escape"),
        pytest.param(b"\x00{}", id="nul-before"),
        pytest.param(b"\x0c{}", id="form-feed-is-not-json-whitespace"),
        pytest.param(b"\xc2\xa0{}", id="nbsp-is-not-json-whitespace"),
        # Integers too long for Python to convert (a ValueError, not JSONDecodeError).
        pytest.param(b"1" * 5000, id="5000-digit-integer"),
        pytest.param(b'{"exp":' + b"9" * 100_000 + b"}", id="100k-digit-integer"),
    ],
)
def test_loads_refuses(data: bytes) -> None:
    with pytest.raises(StrictDecodeError):
        loads(data)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"a":NaN}', id="nan"),
        pytest.param('{"a":1,"a":2}', id="duplicate"),
        pytest.param('{"a":"\\ud800"}', id="lone-surrogate"),
        pytest.param("\ufeff{}", id="bom"),
        pytest.param("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), id="too-deep"),
    ],
)
def test_loads_refuses_text_too(text: str) -> None:
    # Stringified claims arrive as text (spec 2.5): the same rules apply.
    with pytest.raises(StrictDecodeError):
        loads(text)


def test_error_messages_never_echo_the_input() -> None:
    secret = "s3cr3t-token-material"
    for data in (f'{{"{secret}":1,"{secret}":2}}', f'{{"a":"{secret}"', f'["{secret}",NaN]'):
        with pytest.raises(StrictDecodeError) as caught:
            loads(data)
        assert secret not in str(caught.value)


# --- JSON: nesting depth ----------------------------------------------------------------------


def _nested(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def _nested_objects(depth: int) -> str:
    return '{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_nested(MAX_DEPTH), id="arrays-at-limit"),
        pytest.param(_nested_objects(MAX_DEPTH), id="objects-at-limit"),
        pytest.param('{"a":' + _nested(MAX_DEPTH - 1) + "}", id="mixed-at-limit"),
        pytest.param("[" + ",".join(["[]"] * 1000) + "]", id="wide-but-shallow"),
        pytest.param('["' + "[" * 10_000 + '"]', id="brackets-inside-a-string"),
        pytest.param('["\\"' + "{" * 10_000 + '"]', id="brackets-after-escaped-quote"),
        pytest.param('["\\\\","' + "[" * 10_000 + '"]', id="brackets-after-escaped-backslash"),
    ],
)
def test_depth_within_the_limit(text: str) -> None:
    loads(text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_nested(MAX_DEPTH + 1), id="arrays-over-limit"),
        pytest.param(_nested_objects(MAX_DEPTH + 1), id="objects-over-limit"),
        pytest.param('{"a":' + _nested(MAX_DEPTH) + "}", id="mixed-over-limit"),
        pytest.param(_nested(100_000), id="arrays-100k"),
        pytest.param(_nested_objects(100_000), id="objects-100k"),
        pytest.param("[" * 100_000, id="unclosed-100k"),
        pytest.param('{"a":' * 100_000, id="unclosed-objects-100k"),
        pytest.param('["\\\\"' + ",[" * 100_000, id="after-escaped-backslash-100k"),
    ],
)
def test_depth_over_the_limit_is_refused_without_recursion_error(text: str) -> None:
    # RecursionError is not a StrictDecodeError: pytest.raises would let it through.
    with pytest.raises(StrictDecodeError):
        loads(text)
    with pytest.raises(StrictDecodeError):
        loads(text.encode())


def test_depth_limit_holds_at_a_low_recursion_limit() -> None:
    # The parser must not rely on Python's recursion limit to stop deep input.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(200, MAX_DEPTH * 3))
    try:
        with pytest.raises(StrictDecodeError):
            loads(_nested(10_000))
    finally:
        sys.setrecursionlimit(limit)


# --- base64url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "value"),
    [
        pytest.param(b"", b"", id="empty"),
        pytest.param(b"Zg", b"f", id="len-2"),
        pytest.param(b"Zm8", b"fo", id="len-3"),
        pytest.param(b"Zm9v", b"foo", id="len-4"),
        pytest.param(b"Zm9vYg", b"foob", id="len-6"),
        pytest.param(b"-_8", b"\xfb\xff", id="url-alphabet"),
        pytest.param(b"AA", b"\x00", id="zero-byte"),
        pytest.param(b"____", b"\xff\xff\xff", id="all-ones"),
        pytest.param(b64url(bytes(range(256))), bytes(range(256)), id="every-byte"),
    ],
)
def test_b64url_accepts(segment: bytes, value: bytes) -> None:
    assert b64url_decode(segment) == value


@pytest.mark.parametrize(
    "segment",
    [
        # Padding (RFC 7515 2: base64url without padding).
        pytest.param(b"Zg==", id="padding-2"),
        pytest.param(b"Zm8=", id="padding-1"),
        pytest.param(b"Zg=", id="partial-padding"),
        pytest.param(b"Zm9v====", id="padding-after-full-quantum"),
        pytest.param(b"=", id="padding-only"),
        pytest.param(b"Zg==Zg", id="padding-in-the-middle"),
        # The standard alphabet's characters.
        pytest.param(b"+_8", id="plus"),
        pytest.param(b"-/8", id="slash"),
        pytest.param(b"+/8=", id="standard-base64"),
        # Whitespace anywhere.
        pytest.param(b" Zm9v", id="leading-space"),
        pytest.param(b"Zm9v ", id="trailing-space"),
        pytest.param(b"Zm 9v", id="inner-space"),
        pytest.param(b"Zm9v\n", id="newline"),
        pytest.param(b"Zm\r\n9v", id="crlf"),
        pytest.param(b"Zm\t9v", id="tab"),
        # Other foreign characters.
        pytest.param(b"Zm9v.", id="dot"),
        pytest.param(b"Zm?v", id="question-mark"),
        pytest.param(b"Zm9\x00", id="nul"),
        pytest.param("Zm9é".encode(), id="non-ascii"),
        pytest.param(b"\xff\xfe", id="high-bytes"),
        # Impossible length: 4n+1 characters cannot encode whole bytes.
        pytest.param(b"Z", id="length-1"),
        pytest.param(b"Zm9vZ", id="length-5"),
        pytest.param(b"Zm9vYmFyZ", id="length-9"),
        # Non-zero unused bits: a second spelling of the same bytes (RFC 4648 3.5).
        pytest.param(b"Zh", id="non-canonical-2"),
        pytest.param(b"Zv", id="non-canonical-2-max"),
        pytest.param(b"Zm9", id="non-canonical-3"),
        pytest.param(b"Zm_", id="non-canonical-3-max"),
        pytest.param(b"AB", id="non-canonical-AB"),
    ],
)
def test_b64url_refuses(segment: bytes) -> None:
    with pytest.raises(StrictDecodeError):
        b64url_decode(segment)


@pytest.mark.parametrize("length", range(1, 40))
def test_b64url_every_byte_string_has_exactly_one_spelling(length: int) -> None:
    data = bytes((index * 37 + length) % 256 for index in range(length))
    encoded = b64url(data)
    assert b64url_decode(encoded) == data
    last = encoded[-1:]
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for char in alphabet:
        variant = encoded[:-1] + bytes([char])
        if variant == encoded:
            continue
        try:
            decoded = b64url_decode(variant)
        except StrictDecodeError:
            continue
        assert decoded != data, f"{variant!r} also decodes to the data (last char {last!r})"


# --- through parse_token ----------------------------------------------------------------------

_HEADER = b64url(b'{"alg":"HS256"}')
_PAYLOAD = b64url(b'{"sub":"x"}')
_SIG = b64url(b"\x01" * 32)


def _deep_object(depth: int) -> bytes:
    # Small enough for the 16 KiB token limit, far deeper than MAX_DEPTH.
    return b'{"a":' + b"[" * depth + b"]" * depth + b"}"


def _token(header: bytes = _HEADER, payload: bytes = _PAYLOAD, sig: bytes = _SIG) -> str:
    return b".".join([header, payload, sig]).decode("latin-1")


def _reason(token: str) -> str:
    with pytest.raises(InvalidJWT) as caught:
        parse_token(token)
    return caught.value.reason


def test_parse_token_well_formed_baseline() -> None:
    parsed = parse_token(_token())
    assert parsed.header == {"alg": "HS256"}
    assert parsed.claims == {"sub": "x"}
    assert parsed.signature == b"\x01" * 32
    assert parsed.signing_input == _HEADER + b"." + _PAYLOAD


_COMPACT = "JWSError (CompactDecodeError "
_CLAIMS = "JWTClaimsSetDecodeError "


@pytest.mark.parametrize(
    ("token", "prefix"),
    [
        pytest.param(
            _token(header=b64url(b'{"alg":"HS256","alg":"none"}')),
            _COMPACT,
            id="duplicate-in-header",
        ),
        pytest.param(
            _token(header=b64url('{"alg":"HS256"}'.encode("utf-16"))), _COMPACT, id="utf-16-header"
        ),
        pytest.param(_token(header=b64url(b'{"alg":NaN}')), _COMPACT, id="nan-in-header"),
        pytest.param(
            _token(header=b64url(b'{"alg":"\\ud800"}')), _COMPACT, id="lone-surrogate-in-header"
        ),
        pytest.param(_token(header=b64url(b'["HS256"]')), _COMPACT, id="header-not-an-object"),
        pytest.param(_token(header=b64url(_deep_object(3000))), _COMPACT, id="deep-header"),
        pytest.param(_token(header=_HEADER + b"="), _COMPACT, id="padded-header"),
        pytest.param(
            _token(payload=b64url(b'{"sub":"x","sub":"y"}')), _CLAIMS, id="duplicate-in-payload"
        ),
        pytest.param(
            _token(payload=b64url('{"sub":"x"}'.encode("utf-32"))), _CLAIMS, id="utf-32-payload"
        ),
        pytest.param(
            _token(payload=b64url(b'{"exp":Infinity}')), _CLAIMS, id="infinity-in-payload"
        ),
        pytest.param(_token(payload=b64url(b'{"exp":1e400}')), _CLAIMS, id="exp-overflows-to-inf"),
        pytest.param(
            _token(payload=b64url(b'{"exp":9223372036854775808}')), _CLAIMS, id="exp-2-pow-63"
        ),
        pytest.param(
            _token(payload=b64url(b'{"nbf":-9223372036854775808}')),
            _CLAIMS,
            id="nbf-minus-2-pow-63",
        ),
        pytest.param(
            _token(payload=b64url(b'{"iat":1e19}')), _CLAIMS, id="iat-float-over-2-pow-63"
        ),
        pytest.param(
            _token(payload=b64url(b'{"exp":' + b"9" * 5000 + b"}")), _CLAIMS, id="exp-5000-digits"
        ),
        pytest.param(_token(payload=b64url(b'{"exp":true}')), _CLAIMS, id="exp-boolean"),
        pytest.param(_token(payload=b64url(b'{"exp":"1"}')), _CLAIMS, id="exp-string"),
        pytest.param(
            _token(payload=b64url(b'{"a":"\\udc00"}')), _CLAIMS, id="lone-surrogate-in-payload"
        ),
        pytest.param(_token(payload=b64url(_deep_object(3000))), _CLAIMS, id="deep-payload"),
        pytest.param(_token(payload=b64url(b'"claims"')), _CLAIMS, id="payload-not-an-object"),
        pytest.param(_token(payload=_PAYLOAD + b"=="), _COMPACT, id="padded-payload"),
        pytest.param(
            _token(payload=_PAYLOAD.replace(b"_", b"/").replace(b"-", b"+") + b"+"),
            _COMPACT,
            id="standard-alphabet-payload",
        ),
        pytest.param(_token(sig=_SIG + b"="), _COMPACT, id="padded-signature"),
        pytest.param(_token(sig=_SIG[:-1] + b"B"), _COMPACT, id="non-canonical-signature"),
        pytest.param(_token(sig=b" " + _SIG), _COMPACT, id="space-in-signature"),
        pytest.param(_token(sig=_SIG + b"AA"), _COMPACT, id="signature-length-4n-plus-1"),
        pytest.param("a" * 16 * 1024 + "..", _COMPACT, id="over-the-size-limit"),
    ],
)
def test_parse_token_strict_failures(token: str, prefix: str) -> None:
    reason = _reason(token)
    assert reason.startswith(prefix), reason
    # Each case must fail on its own rule, not on the size limit (16 KiB, spec 7.3).
    assert ("size limit" in reason) == (len(token) > 16 * 1024)
    assert str(InvalidJWT(reason)).startswith("Could not verify JWT: ")


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        pytest.param("exp", 2**63 - 1, id="exp-just-below-2-pow-63"),
        pytest.param("nbf", -(2**63) + 1, id="nbf-just-above-minus-2-pow-63"),
        pytest.param("iat", 1700000000.5, id="fractional-iat"),
        pytest.param("exp", 0, id="exp-zero"),
    ],
)
def test_parse_token_time_claims_in_range(claim: str, value: float) -> None:
    payload = b64url(json.dumps({claim: value}).encode())
    assert parse_token(_token(payload=payload)).claims[claim] == value
