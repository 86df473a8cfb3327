"""What Hasura sends its auth webhook (server/src-lib/Hasura/Server/Auth/WebHook.hs): the
client's headers, as the GET request's own headers (GET mode), or as the ``"headers"`` object
of a POST's JSON body ``{"headers": {...}, "request": {...}}`` (POST mode).

The POST body is hostile input: bounded, parsed strictly (`_strict.loads`), and every header
name and value checked before the `Authenticator` sees it. A bad body is `InvalidHeaders` with
status 401, which the webhook answers as it answers any failed authentication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .._errors import InvalidHeaders
from .._http import discard_body
from .._names import HTTP_TOKEN
from .._strict import StrictDecodeError, loads
from .._types import Headers, Receive, Scope

MAX_BODY_BYTES = 64 * 1024
# RFC 9110 section 5.5: no control character but HTAB in a field value (CR, LF, NUL above all).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def refused(message: str) -> InvalidHeaders:
    return InvalidHeaders(f"webhook request: {message}", status=401)


@dataclass(frozen=True)
class Incoming:
    """One request from Hasura: the client's headers, as the `Authenticator` reads them."""

    headers: Headers  # lower-case names
    envelope: dict[str, Any] | None = None  # POST mode: the whole body, for the fallback


async def read_post(scope: Scope, receive: Receive) -> Incoming | None:
    """The POST-mode request, or ``None`` when the client left while sending it; a bad body
    raises `InvalidHeaders` (401).
    """
    body = await _read_body(scope, receive)
    if body is None:
        return None
    try:
        envelope = loads(body)
    except StrictDecodeError as exc:
        # The decoder's message names the rule that failed, never the input.
        raise refused(f"the body is not valid JSON ({exc})") from exc
    if not isinstance(envelope, dict) or not isinstance(envelope.get("headers"), dict):
        raise refused('expected a JSON object with a "headers" object')
    return Incoming(_headers(envelope["headers"]), envelope)


async def _read_body(scope: Scope, receive: Receive) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
            await discard_body(receive)
            raise refused(f"the body is over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            if message.get("more_body", False):
                await discard_body(receive)
            raise refused(f"the body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _headers(fields: dict[str, Any]) -> Headers:
    # Hasura sends each header under the client's own spelling of its name (CI.original), the
    # last of a repeated one winning (Map.fromList); ASGI servers deliver lower-case names.
    headers: Headers = []
    for name, value in fields.items():
        if not HTTP_TOKEN.fullmatch(name):
            raise refused("header names must be HTTP tokens (RFC 9110 section 5.6.2)")
        if not isinstance(value, str):
            raise refused("the value of every header must be a string")
        if _CONTROL.search(value):
            raise refused("header values must not contain control characters")
        # Hasura read the bytes as UTF-8 (bsToTxt); back to those bytes for RequestHeaders.
        headers.append((name.lower().encode("ascii"), value.encode("utf-8")))
    return headers
