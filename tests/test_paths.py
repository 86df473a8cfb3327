"""Spec 1.2: the JSON path subset of ``claims_namespace_path`` / ``claims_map`` (`_paths.py`)."""

from __future__ import annotations

from typing import Any

import pytest

from asgi_hasura_jwt._config import parse_config
from asgi_hasura_jwt._errors import ConfigError
from asgi_hasura_jwt._paths import NOT_FOUND, PathSyntaxError, compile_path, lookup

from .conftest import HMAC_SECRET

PATH_TAIL = (
    ". Accept letters, digits, underscore (_) or hyphen (-) only. Use quotes enclosed in bracket"
    ' (["..."]) if there is any special character'
)


@pytest.mark.parametrize(
    ("path", "steps"),
    [
        # Every example the spec gives.
        pytest.param("$", (), id="root"),
        pytest.param(
            "$.['https://myapp.com/jwt/claims'].user.id",
            ("https://myapp.com/jwt/claims", "user", "id"),
            id="spec-dot-before-bracket",
        ),
        pytest.param("$.hasura['claims%']", ("hasura", "claims%"), id="spec-quoted-special"),
        # Names: a letter or _, then letters, digits, - and _.
        pytest.param("$.a", ("a",), id="dot-name"),
        pytest.param("a", ("a",), id="bare-name"),
        pytest.param("$a", ("a",), id="name-right-after-root"),
        pytest.param(".a", ("a",), id="leading-dot-without-root"),
        pytest.param("$.hasura.claims", ("hasura", "claims"), id="two-names"),
        pytest.param("hasura.claims", ("hasura", "claims"), id="two-names-no-root"),
        pytest.param("$._private", ("_private",), id="underscore-first"),
        pytest.param("$.x-hasura-user-id", ("x-hasura-user-id",), id="hyphens"),
        pytest.param("$.a1_b-2", ("a1_b-2",), id="digits-after-first"),
        pytest.param("$.Z", ("Z",), id="upper-case"),
        pytest.param("$.a-", ("a-",), id="trailing-hyphen"),
        # Indexes.
        pytest.param("$[0]", (0,), id="index-at-root"),
        # Hasura reads the index with a decimal parser, which takes leading zeros.
        pytest.param("$.a[007]", ("a", 7), id="index-leading-zeros"),
        pytest.param("$.roles[0]", ("roles", 0), id="index"),
        pytest.param("$.a[10][2]", ("a", 10, 2), id="two-indexes"),
        pytest.param("$.a.[1]", ("a", 1), id="dot-before-index"),
        pytest.param("$[12345678901234567890]", (12345678901234567890,), id="huge-index"),
        # Quoted keys.
        pytest.param('$["x-hasura-claims"]', ("x-hasura-claims",), id="double-quoted"),
        pytest.param("$['a b']", ("a b",), id="single-quoted-space"),
        pytest.param('$.["a.b"]', ("a.b",), id="dot-before-double-quoted"),
        pytest.param("$['a']['b'][0]", ("a", "b", 0), id="chained-brackets"),
        pytest.param("$['a']b", ("a", "b"), id="bare-name-after-bracket"),
        pytest.param("$['1abc']", ("1abc",), id="quoted-digit-first"),
        pytest.param("$['café']", ("café",), id="quoted-non-ascii"),
        pytest.param("$['a\"b']", ('a"b',), id="double-quote-inside-single"),
        pytest.param('$["a\'b"]', ("a'b",), id="single-quote-inside-double"),
        pytest.param("$['$']", ("$",), id="quoted-dollar"),
        pytest.param("$['*']", ("*",), id="quoted-star-is-a-key"),
        pytest.param("$['..']", ("..",), id="quoted-dots-are-a-key"),
        pytest.param("$['[0]']", ("[0]",), id="quoted-brackets-are-a-key"),
        # JSON-style backslash escapes inside quotes.
        pytest.param('$["a\\"b"]', ('a"b',), id="escaped-double-quote"),
        pytest.param("$['it\\'s']", ("it's",), id="escaped-single-quote"),
        pytest.param('$["a\\\\b"]', ("a\\b",), id="escaped-backslash"),
        pytest.param('$["\\\\"]', ("\\",), id="only-a-backslash"),
        pytest.param('$["a\\/b"]', ("a/b",), id="escaped-slash"),
        pytest.param('$["\\u0041\\u00e9"]', ("Aé",), id="unicode-escapes"),
        pytest.param('$["\\uD83D\\uDE00"]', ("\ud83d\ude00",), id="escaped-surrogates-kept"),
        pytest.param('$["\\n\\t\\r\\b\\f"]', ("\n\t\r\b\f",), id="control-escapes"),
        pytest.param('$["\\\\n"]', ("\\n",), id="escaped-backslash-then-n"),
    ],
)
def test_valid_paths(path: str, steps: tuple[str | int, ...]) -> None:
    assert compile_path(path) == steps


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("", id="empty"),
        pytest.param("$$", id="double-root"),
        pytest.param("$.", id="trailing-dot-only"),
        pytest.param("$.a.", id="trailing-dot"),
        pytest.param(".", id="dot-only"),
        pytest.param("$..a", id="recursive-descent"),
        pytest.param("..a", id="recursive-descent-no-root"),
        pytest.param("$.a..b", id="recursive-descent-inside"),
        pytest.param("$..", id="recursive-descent-alone"),
        pytest.param("$.*", id="wildcard"),
        pytest.param("$[*]", id="bracket-wildcard"),
        pytest.param("$.a[*]", id="index-wildcard"),
        pytest.param("$.a.*.b", id="wildcard-inside"),
        pytest.param("$[?(@.a)]", id="filter"),
        pytest.param("$.a[?(@.b == 1)]", id="filter-comparison"),
        pytest.param("@.a", id="current-node"),
        pytest.param("$.a[0:2]", id="slice"),
        pytest.param("$.a[:1]", id="open-slice"),
        pytest.param("$.a[::2]", id="step-slice"),
        pytest.param("$.a[-1]", id="negative-index"),
        pytest.param("$.a[0,1]", id="index-union"),
        pytest.param("$['a','b']", id="key-union"),
        pytest.param("$.a[]", id="empty-brackets"),
        pytest.param("$.a[ 0]", id="space-in-index"),
        pytest.param("$.a[1.5]", id="fractional-index"),
        pytest.param("$.a[0x1]", id="hex-index"),
        pytest.param("$.a[b]", id="unquoted-key-in-brackets"),
        pytest.param("$['']", id="empty-single-quoted"),
        pytest.param('$[""]', id="empty-double-quoted"),
        pytest.param("$['a'", id="unclosed-bracket"),
        pytest.param("$['a]", id="unclosed-quote"),
        pytest.param("$[\"a']", id="mismatched-quotes"),
        pytest.param('$["a"b"]', id="unescaped-quote-inside"),
        pytest.param("$['a\\']", id="escaped-closing-quote"),
        pytest.param('$["a\\x41"]', id="unknown-escape"),
        pytest.param('$["\\u12"]', id="short-unicode-escape"),
        pytest.param('$["a\\"]', id="dangling-backslash"),
        pytest.param("$.1a", id="digit-first"),
        pytest.param("$.-a", id="hyphen-first"),
        pytest.param("$.café", id="non-ascii-name"),
        pytest.param("$.\uff41", id="fullwidth-letter"),
        pytest.param("$.\u212a", id="kelvin-sign"),
        pytest.param("$.a b", id="space-in-name"),
        pytest.param("$ .a", id="space-after-root"),
        pytest.param(" $.a", id="leading-space"),
        pytest.param("$.a ", id="trailing-space"),
        pytest.param("$.a\n", id="trailing-newline"),
        pytest.param("$.a%", id="percent-unquoted"),
        pytest.param("$.a/b", id="slash-unquoted"),
        pytest.param("$.a$", id="dollar-inside"),
        pytest.param("a$", id="dollar-after-name"),
        pytest.param("$.a.$", id="dollar-as-name"),
        pytest.param("$['a'].", id="trailing-dot-after-bracket"),
        pytest.param("$.a.['b']%", id="garbage-after-bracket"),
    ],
)
def test_invalid_paths(path: str) -> None:
    with pytest.raises(PathSyntaxError) as caught:
        compile_path(path)
    assert str(caught.value) == path


@pytest.mark.parametrize(
    ("field", "path"),
    [
        pytest.param("claims_namespace_path", "$..a", id="namespace-path"),
        pytest.param("claims_namespace_path", "$['']", id="namespace-path-empty-key"),
        pytest.param("claims_namespace_path", "", id="namespace-path-empty"),
        pytest.param("claims_map", "$.a[?(@)]", id="claims-map-path"),
        pytest.param("claims_map", "$.café", id="claims-map-non-ascii"),
    ],
)
def test_config_error_echoes_the_path(field: str, path: str) -> None:
    raw: dict[str, Any] = {"type": "HS256", "key": HMAC_SECRET}
    if field == "claims_map":
        raw["claims_map"] = {
            "x-hasura-allowed-roles": ["user"],
            "x-hasura-default-role": "user",
            "x-hasura-user-id": {"path": path},
        }
    else:
        raw[field] = path
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert str(caught.value) == f"invalid JSON path {field} error: {path}{PATH_TAIL}"


_DOC: dict[str, Any] = {
    "a": {"b": 1, "n": None, "f": False, "z": 0, "e": "", "list": [], "obj": {}},
    "arr": [10, {"k": "v"}, [20, 21]],
    "text": "xyz",
    "num": 5,
    "null": None,
    "digits": {"0": "zero"},
    "https://myapp.com/jwt/claims": {"user": {"id": "u-1"}},
    "hasura": {"claims%": {"x-hasura-role": "r"}},
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("$", _DOC, id="root-is-the-document"),
        pytest.param("$.a.b", 1, id="nested-key"),
        pytest.param("$.arr[0]", 10, id="index"),
        pytest.param("$.arr[1].k", "v", id="key-after-index"),
        pytest.param("$.arr[2][1]", 21, id="index-after-index"),
        pytest.param("$.['https://myapp.com/jwt/claims'].user.id", "u-1", id="spec-example-1"),
        pytest.param("$.hasura['claims%']", {"x-hasura-role": "r"}, id="spec-example-2"),
        pytest.param("$.digits['0']", "zero", id="quoted-digit-key"),
        # Present values that are falsy are found, null included.
        pytest.param("$.null", None, id="present-null"),
        pytest.param("$.a.n", None, id="nested-null"),
        pytest.param("$.a.f", False, id="false"),
        pytest.param("$.a.z", 0, id="zero"),
        pytest.param("$.a.e", "", id="empty-string"),
        pytest.param("$.a.list", [], id="empty-list"),
        pytest.param("$.a.obj", {}, id="empty-object"),
    ],
)
def test_lookup_found(path: str, value: Any) -> None:
    assert lookup(_DOC, compile_path(path)) == value
    if value is None:
        assert lookup(_DOC, compile_path(path)) is not NOT_FOUND


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("$.missing", id="missing-key"),
        pytest.param("$.a.missing", id="missing-nested-key"),
        pytest.param("$.missing.deeper", id="below-a-missing-key"),
        pytest.param("$.num.x", id="key-on-number"),
        pytest.param("$.text.x", id="key-on-string"),
        pytest.param("$.null.x", id="key-on-null"),
        pytest.param("$.a.f.x", id="key-on-boolean"),
        pytest.param("$.arr.k", id="key-on-array"),
        pytest.param("$.a[0]", id="index-on-object"),
        pytest.param("$.text[0]", id="index-on-string"),
        pytest.param("$.num[0]", id="index-on-number"),
        pytest.param("$.null[0]", id="index-on-null"),
        pytest.param("$.digits[0]", id="index-is-not-a-key"),
        pytest.param("$.arr[3]", id="index-out-of-range"),
        pytest.param("$.a.list[0]", id="index-on-empty-array"),
        pytest.param("$.arr[12345678901234567890]", id="huge-index"),
        pytest.param("$.A", id="keys-are-case-sensitive"),
    ],
)
def test_lookup_not_found(path: str) -> None:
    assert lookup(_DOC, compile_path(path)) is NOT_FOUND


def test_lookup_on_a_scalar_document() -> None:
    assert lookup(None, ()) is None
    assert lookup(None, ("a",)) is NOT_FOUND
    assert lookup([1], (0,)) == 1
    assert lookup("s", (0,)) is NOT_FOUND
