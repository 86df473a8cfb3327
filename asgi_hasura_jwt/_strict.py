"""Strict base64url and JSON decoding for token segments (spec 7.6).

Both are on the hot path, so the common case stays in C: the alphabet check is one
``bytes.translate``, the decoders are called without the stdlib's Python wrappers, and the slow
checks (nesting depth, lone surrogates) run only when a cheap scan says the input could need
them.
"""

from __future__ import annotations

import binascii
import json
import sys
from collections.abc import Callable
from typing import Any

MAX_DEPTH = 32

_B64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_B64_INDEX = {char: index for index, char in enumerate(_B64URL_ALPHABET)}
_PADDING = (b"", None, b"==", b"=")
_UNUSED_BITS = (0, 0, 0b1111, 0b11)  # by length % 4: bits of the last character left over
# base64url to base64: the alphabet check has already refused "+" and "/" in the input.
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
# The same, with "+", "/" and "=" turned into "*", which base64 refuses too.
_GUARDED = bytes.maketrans(b"-_+/=", b"+/***")
# binascii's strict mode arrived in Python 3.11; before it, every segment goes the careful way.
_STRICT_A2B = sys.version_info >= (3, 11)


# `ONLY_STR.issuperset(map(type, items))`: every item a str, tested in C (the parser yields exact
# str, never a subclass).
ONLY_STR = frozenset([str])


class StrictDecodeError(ValueError):
    """Input that a strict decoder refuses; the message names the rule, never the input."""


def b64url_decode(segment: bytes) -> bytes:
    """Decode unpadded, canonical base64url (RFC 7515 section 2, RFC 4648 section 3.5)."""
    remainder = len(segment) % 4
    padding = _PADDING[remainder]
    # One pass in C (Python >= 3.11): "+", "/" and "=" become a byte base64 refuses, "-" and
    # "_" their base64 twins; strict mode refuses every byte outside the alphabet. Only the
    # unused bits are left to check, and any doubt goes the careful way.
    if (
        _STRICT_A2B
        and padding is not None
        and not (padding and _B64_INDEX.get(segment[-1], 0) & _UNUSED_BITS[remainder])
    ):
        guarded = segment.translate(_GUARDED) + padding
        try:
            # mypy checks against Python 3.10, whose binascii has no strict_mode.
            return binascii.a2b_base64(guarded, strict_mode=True)  # type: ignore[call-arg,unused-ignore]
        except binascii.Error:
            pass
    return _b64url_decode_carefully(segment)


def _b64url_decode_carefully(segment: bytes) -> bytes:
    """`b64url_decode` one rule at a time, raising the first broken one."""
    if segment.translate(None, _B64URL_ALPHABET):
        raise StrictDecodeError("invalid base64url character")
    remainder = len(segment) % 4
    padding = _PADDING[remainder]
    if padding is None:
        raise StrictDecodeError("invalid base64url length")
    # Non-zero unused bits mean a second spelling of the same bytes (RFC 4648 section 3.5).
    if padding and _B64_INDEX[segment[-1]] & _UNUSED_BITS[remainder]:
        raise StrictDecodeError("non-canonical base64url")
    try:
        return binascii.a2b_base64(segment.translate(_TO_STANDARD) + padding)
    except binascii.Error as exc:  # pragma: no cover - excluded by the checks above
        raise StrictDecodeError("invalid base64url") from exc


def _reject_constant(name: str) -> Any:
    raise StrictDecodeError(f"{name} is not valid JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise StrictDecodeError("duplicate member name")
    return obj


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_object, parse_constant=_reject_constant)
# The C scanner behind _DECODER.decode, called directly for JSON without surrounding whitespace
# (every token segment in practice); anything else takes decode's full path. typeshed does
# not declare the attribute JSONDecoder.__init__ sets.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _depth(value: Any) -> int:
    """Nesting depth of a parsed value (a scalar is 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def loads(data: bytes | str) -> Any:
    """Parse JSON strictly: UTF-8 only, no NaN/Infinity, unique names, bounded depth,
    valid Unicode scalar values.
    """
    if isinstance(data, bytes):
        try:
            # json.loads(bytes) would sniff UTF-16/32; the JWS spec allows UTF-8 only.
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StrictDecodeError("not UTF-8") from exc
    else:
        text = data
    try:
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            end = -1
        if end != len(text):
            value = _DECODER.decode(text)
    except StrictDecodeError:
        raise
    except RecursionError as exc:
        raise StrictDecodeError("JSON nested too deeply") from exc
    except ValueError as exc:
        # JSONDecodeError, and integers over sys.get_int_max_str_digits().
        raise StrictDecodeError("invalid JSON") from exc
    # At most MAX_DEPTH openers means at most MAX_DEPTH levels: the walk is rarely needed.
    if text.count("[") + text.count("{") > MAX_DEPTH and _depth(value) > MAX_DEPTH:
        raise StrictDecodeError("JSON nested too deeply")
    if "\\u" in text and _has_lone_surrogate(value):
        raise StrictDecodeError("lone surrogate in JSON string")
    return value
