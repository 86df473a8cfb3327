"""The webhook's answers in Hasura's contract (WebHook.hs, ``mkUserInfoFromResp``).

Hasura reads a 200 body as a JSON object of strings: the session variables (names matched
case-insensitively), and ``"Cache-Control"`` (``max-age``, read first) or ``"Expires"`` (an
HTTP date), spelled exactly so, for when the session ends. Hasura reads no response header but
``Set-Cookie``. A 401 means "unauthorized"; any other status is an internal error to Hasura.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import lru_cache
from typing import Any

from .._errors import AuthError
from .._session import Session
from .._types import Headers, Send

_JSON = (b"content-type", b"application/json")
# The answer is one request's session: never kept by a cache between Hasura and the webhook.
_NO_STORE = (b"cache-control", b"no-store")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: Headers = field(default_factory=list)  # besides content-length

    async def send(self, send: Send) -> None:
        headers = [*self.headers, (b"content-length", str(len(self.body)).encode())]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def json_reply(status: int, value: Any, *headers: tuple[bytes, bytes]) -> Reply:
    return Reply(status, _dumps(value), [_JSON, *headers])


def granted(session: Session, now: float) -> Reply:
    """200: the session's variables (``X-Hasura-Role``, ...), and its end when it has one."""
    body = _variables(tuple(session.items()))
    # valid_until (exp + allowed_skew) is when the webhook stops accepting the token, so the
    # instant at which a socket opened with it should close, as the middleware closes its own.
    until = session.valid_until
    if until is not None:
        end = {"Cache-Control": f"max-age={max(0, math.floor(until - now))}"}
        expires = _http_date(math.floor(until))
        if expires is not None:
            end["Expires"] = expires
        body = body[:-1] + b"," + _dumps(end)[1:]
    return Reply(200, body, [_JSON, _NO_STORE])


def unauthorized(error: AuthError) -> Reply:
    """401 with Hasura's error body: Hasura takes every other status for its own failure."""
    return Reply(
        401,
        error.to_json(),
        [_JSON, _NO_STORE, (b"www-authenticate", b"Bearer")],  # RFC 6750 section 3
    )


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


# The cached token's sessions repeat: their JSON and their end's date are made once each.
@lru_cache(maxsize=256)
def _variables(items: tuple[tuple[str, str], ...]) -> bytes:
    # x-hasura-user-id -> X-Hasura-User-Id, as Hasura's docs spell them; Hasura matches names
    # case-insensitively, so this is for the humans reading the answer.
    return _dumps({_hasura_case(name): value for name, value in items})


def _hasura_case(name: str) -> str:
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


@lru_cache(maxsize=256)
def _http_date(instant: int) -> str | None:
    """RFC 9110's IMF-fixdate, the ``%a, %d %b %Y %T GMT`` Hasura parses; ``None`` past year
    9999 (``exp`` may be up to 2^63), where ``"Cache-Control"`` alone says it.
    """
    try:
        return formatdate(instant, usegmt=True)
    except (OverflowError, OSError, ValueError):
        return None
