"""Reading client frames (spec 5, 7.3, 7.6): strictly, bounded, and ``payload.headers`` as
request headers.
"""

from __future__ import annotations

import re
from typing import Any

from .._names import HTTP_TOKEN
from .._strict import StrictDecodeError, loads

DEFAULT_MAX_INIT_BYTES = 64 * 1024
# RFC 9110 section 5.5: field values never hold CR, LF or NUL. Payload headers that no HTTP
# request could carry are dropped rather than handed to section 2.
_UNSAFE_VALUE = re.compile(r"[\r\n\x00]")


def may_be_init(data: str | bytes) -> bool:
    """Whether a frame could parse, strictly, as a ``connection_init`` message.

    Without a ``\\u`` escape a JSON string spells its letters literally, so a frame without
    the literal name cannot hold that type; UTF-16 or UTF-32 bytes never parse strictly.
    """
    if isinstance(data, bytes):
        return b"connection_init" in data or b"\\u" in data
    return "connection_init" in data or "\\u" in data


def frame_size(data: str | bytes) -> int:
    if isinstance(data, bytes):
        return len(data)
    return len(data.encode("utf-8", "surrogatepass"))


def read_frame(data: str | bytes) -> dict[str, Any] | None:
    """The frame as a JSON object with a string ``type``, or ``None``.

    Strict JSON (spec 7.6): with duplicate names an app's parser could read another ``type``
    than ours.
    """
    try:
        frame = loads(data)
    except StrictDecodeError:
        return None
    if isinstance(frame, dict) and isinstance(frame.get("type"), str):
        return frame
    return None


def payload_headers(payload: object) -> list[tuple[bytes, bytes]]:
    """``payload.headers`` as request headers (spec 5): names lower-cased, non-string values
    dropped, a payload or headers that is not an object counts as absent.
    """
    headers = payload.get("headers") if isinstance(payload, dict) else None
    if not isinstance(headers, dict):
        return []
    return [
        (name.lower().encode("ascii"), _header_bytes(value))
        for name, value in headers.items()
        if isinstance(value, str) and HTTP_TOKEN.fullmatch(name) and not _UNSAFE_VALUE.search(value)
    ]


def _header_bytes(value: str) -> bytes:
    # Section 2 reads header bytes as UTF-8, as Hasura turns payload text into headers. A lone
    # surrogate (possible only in a hand-built text frame) becomes bytes that read as U+FFFD.
    return value.encode("utf-8", "surrogatepass")
