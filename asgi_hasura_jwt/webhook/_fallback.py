"""The fallback webhook: a request no config took up goes on to the user's existing webhook.

The JWT-or-webhook chain (hasura#6514): Hasura calls this webhook, which verifies the JWTs it
knows and forwards the rest, in the same mode, to the webhook that was there before. Its 200
(checked to be what Hasura accepts, then relayed byte for byte with its ``Set-Cookie``
headers, as Hasura forwards them) and its 401 are relayed; anything else (a timeout, a 5xx, a
redirect, a body Hasura would reject) becomes a 401, since Hasura turns any other answer into
an internal error. The admin secret is never forwarded.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import httpx

from .._errors import AccessDenied
from .._jwks.download import new_client, parse_url
from .._names import ROLE, SECRET_HEADERS
from .._strict import StrictDecodeError, loads
from .._types import Headers
from ._incoming import MAX_BODY_BYTES, Incoming
from ._reply import Reply, unauthorized

logger = logging.getLogger("asgi_hasura_jwt.webhook")

# Not the client's to pass on (RFC 9110 section 7.6.1) or httpx's to set (host, length).
_NOT_FORWARDED = frozenset(
    {
        "accept-encoding",
        "connection",
        "content-length",
        "expect",
        "host",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        *SECRET_HEADERS,
    }
)
# An uncompressed answer: its size is bounded as received, and nothing inflates past it.
_IDENTITY = (b"accept-encoding", b"identity")


def _failed(reason: str) -> Reply:
    return unauthorized(AccessDenied(f"fallback webhook: {reason}", status=401))


class Fallback:
    """Forwards to one webhook URL with a timeout; `aclose` closes the client it made."""

    def __init__(
        self, url: str, *, timeout: float, http_client: httpx.AsyncClient | None = None
    ) -> None:
        self._url = parse_url(url, "fallback_webhook")
        self._timeout = timeout
        self._owns_client = http_client is None
        # Made here, not on the event loop: building a client loads the CA bundle.
        self._client: httpx.AsyncClient | None = http_client or new_client()

    async def aclose(self) -> None:
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def forward(self, incoming: Incoming) -> Reply:
        if self._client is None:  # closed at a lifespan's shutdown, and served again
            self._client = new_client()
        try:
            with anyio.fail_after(self._timeout):
                return await self._exchange(self._client, incoming)
        except (TimeoutError, httpx.TimeoutException):
            reason = f"no answer within {self._timeout:g} s"
        except httpx.HTTPError as exc:
            reason = f"unreachable ({type(exc).__name__})"
        logger.warning("fallback webhook failed: %s", reason)
        return _failed(reason)

    async def _exchange(self, client: httpx.AsyncClient, incoming: Incoming) -> Reply:
        if incoming.envelope is None:
            request = client.build_request(
                "GET",
                self._url,
                headers=[*_forwarded(incoming.headers), _IDENTITY],
                timeout=self._timeout,
            )
        else:
            request = client.build_request(
                "POST",
                self._url,
                content=json.dumps({**incoming.envelope, "headers": _fields(incoming.envelope)}),
                headers=[(b"content-type", b"application/json"), _IDENTITY],
                timeout=self._timeout,
            )
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            status = response.status_code
            if status == 401:
                return _failed("unauthorized this request")
            if status != 200:
                logger.warning("fallback webhook answered HTTP %d", status)
                return _failed(f"answered HTTP {status}, not 200 or 401")
            body, problem = await _session_body(response)
        finally:
            await response.aclose()
        if problem is not None:
            logger.warning("fallback webhook's 200 is not a Hasura session: %s", problem)
            return _failed(f"invalid response ({problem})")
        cookies = [
            (b"set-cookie", value)
            for name, value in response.headers.raw
            if name.lower() == b"set-cookie"
        ]
        return Reply(200, body, [(b"content-type", b"application/json"), *cookies])


def _forwarded(headers: Headers) -> Headers:
    return [
        (name, value)
        for name, value in headers
        if name.lower().decode("latin-1") not in _NOT_FORWARDED
    ]


def _fields(envelope: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = envelope["headers"]
    return {name: value for name, value in fields.items() if name.lower() not in SECRET_HEADERS}


async def _session_body(response: httpx.Response) -> tuple[bytes, str | None]:
    """The body of a 200, and why Hasura would not take it as a session (or ``None``)."""
    if response.headers.get("content-encoding", "identity").lower() != "identity":
        return b"", "compressed, though asked for identity"
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_raw():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"", f"body over {MAX_BODY_BYTES} bytes"
        chunks.append(chunk)
    body = b"".join(chunks)
    return body, _problem(body)


def _problem(body: bytes) -> str | None:
    # What Hasura's decoder needs: an object of strings, with a role (any case of the name).
    try:
        value = loads(body)
    except StrictDecodeError as exc:
        return f"not JSON: {exc}"
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        return "not a JSON object of strings"
    if not any(name.lower() == ROLE for name in value):
        return "no X-Hasura-Role"
    return None
