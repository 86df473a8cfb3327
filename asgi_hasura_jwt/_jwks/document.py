"""A JWKS document → its usable keys, indexed by ``kid`` (spec 4.1, 4.3 key choice, 7.6, 7.8).

The document is parsed strictly (`_strict`), one ``keys`` entry at a time, handing the event
loop back between slices; entries that are not usable keys (`key_from_jwk`) are skipped.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio.lowlevel

from .._keys import VerificationKey, key_from_jwk
from .._strict import StrictDecodeError, loads

logger = logging.getLogger("asgi_hasura_jwt.jwks")

# Key import and JSON parsing run on the event loop; hand it back after this much work (seconds).
# A task waiting on a timer or a socket may resume only after two slices (asyncio wakes it one
# loop iteration late), so a slice stays well under half of the 5 ms stall budget (spec 8).
IMPORT_SLICE = 0.0005

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# Finds where a JSON value ends; the strict parse of that slice is `_strict.loads`.
_RAW_DECODER = json.JSONDecoder()


class UnusableDocument(Exception):
    """A document that gives no usable key set; the message is safe to log."""


@dataclass(frozen=True)
class KeySet:
    """The usable keys of one document, and what tells two documents' keys apart."""

    keys: tuple[VerificationKey, ...] = ()
    fingerprint: tuple[str, ...] = ()  # canonical JSON of the usable entries, to detect changes
    skipped: int = 0
    by_kid: Mapping[str, tuple[VerificationKey, ...]] = field(init=False)

    def __post_init__(self) -> None:
        by_kid: dict[str, list[VerificationKey]] = {}
        for key in self.keys:
            if key.kid is not None:
                by_kid.setdefault(key.kid, []).append(key)
        object.__setattr__(self, "by_kid", {kid: tuple(keys) for kid, keys in by_kid.items()})


async def parse_document(body: bytes, source: str) -> KeySet:
    """The usable keys of a JWKS body; ``source`` names it in log lines.

    Raises `UnusableDocument` for a body that is not strict JSON of a JWKS's shape or that has
    no usable key.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnusableDocument("invalid JSON: not UTF-8") from exc
    keys: list[VerificationKey] = []
    fingerprint: list[str] = []
    skipped = 0
    slice_start = time.perf_counter()
    try:
        for index, entry in enumerate(_entries(text)):
            result = key_from_jwk(entry)
            if isinstance(result, str):
                skipped += 1
                kid = entry.get("kid") if isinstance(entry, dict) else None
                # The reason and kid only: never key material.
                logger.debug(
                    "skipping key %d (kid %.40r) of the JWKS from %s: %s",
                    index,
                    kid,
                    source,
                    result,
                )
            else:
                keys.append(result)
                fingerprint.append(json.dumps(entry, sort_keys=True, separators=(",", ":")))
            if time.perf_counter() - slice_start > IMPORT_SLICE:
                await anyio.lowlevel.checkpoint()
                slice_start = time.perf_counter()
    except StrictDecodeError as exc:
        raise UnusableDocument(f"invalid JSON: {exc}") from exc
    if not keys:
        raise UnusableDocument(f"no usable key in the JWKS ({skipped} skipped)")
    return KeySet(tuple(keys), tuple(fingerprint), skipped)


def _skip_ws(text: str, pos: int) -> int:
    match = _WHITESPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _value_end(text: str, pos: int) -> int:
    try:
        return _RAW_DECODER.raw_decode(text, pos)[1]
    except (ValueError, RecursionError) as exc:
        raise StrictDecodeError("invalid JSON") from exc


def _entries(text: str) -> Iterator[Any]:
    """The strictly parsed entries of a JWKS document's ``keys`` array, one at a time.

    Only the outer object is walked here; each entry and every other member is parsed by
    `_strict.loads` on its own, so a 1 MiB document is handled in small steps. Raises
    `StrictDecodeError` for invalid JSON and `UnusableDocument` for a document of the wrong shape.
    """
    pos = _skip_ws(text, 0)
    if text[pos : pos + 1] != "{":
        raise UnusableDocument("the JWKS is not a JSON object")
    pos = _skip_ws(text, pos + 1)
    names: set[str] = set()
    closing = "}" if text[pos : pos + 1] == "}" else ","
    while closing == ",":
        if text[pos : pos + 1] != '"':
            raise StrictDecodeError("invalid JSON")
        try:
            name, pos = _RAW_DECODER.raw_decode(text, pos)
            name.encode("utf-8")  # a lone surrogate is not valid Unicode (spec 7.6)
        except (ValueError, UnicodeEncodeError) as exc:
            raise StrictDecodeError("invalid JSON") from exc
        if name in names:
            raise StrictDecodeError("duplicate member name")
        names.add(name)
        pos = _skip_ws(text, pos)
        if text[pos : pos + 1] != ":":
            raise StrictDecodeError("invalid JSON")
        pos = _skip_ws(text, pos + 1)
        if name == "keys" and text[pos : pos + 1] == "[":
            pos = yield from _array_entries(text, pos)
        else:
            end = _value_end(text, pos)
            if name == "keys":
                raise UnusableDocument("the JWKS keys member is not an array")
            loads(text[pos:end])  # unused, but it must be valid JSON all the same
            pos = end
        pos = _skip_ws(text, pos)
        closing = text[pos : pos + 1]
        if closing not in (",", "}"):
            raise StrictDecodeError("invalid JSON")
        if closing == ",":
            pos = _skip_ws(text, pos + 1)
    if _skip_ws(text, pos + 1) != len(text):
        raise StrictDecodeError("invalid JSON: data after the document")
    if "keys" not in names:
        raise UnusableDocument("the JWKS has no keys member")


def _array_entries(text: str, pos: int) -> Generator[Any, None, int]:
    # ``text[pos]`` is the "[" of the keys array; returns the position after its "]".
    pos = _skip_ws(text, pos + 1)
    if text[pos : pos + 1] == "]":
        return pos + 1
    while True:
        end = _value_end(text, pos)
        yield loads(text[pos:end])
        pos = _skip_ws(text, end)
        separator = text[pos : pos + 1]
        if separator == "]":
            return pos + 1
        if separator != ",":
            raise StrictDecodeError("invalid JSON")
        pos = _skip_ws(text, pos + 1)
