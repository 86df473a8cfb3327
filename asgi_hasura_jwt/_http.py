"""Answering an HTTP request that failed authentication (spec 3)."""

from __future__ import annotations

from collections.abc import Callable

from ._errors import AuthError
from ._types import ASGIApp, Headers, Receive, Scope, Send

ErrorHook = Callable[[Scope, AuthError], "ASGIApp | None"]


def error_headers(error: AuthError, body: bytes) -> Headers:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if error.status == 401:
        # RFC 6750 section 3: a 401 names the scheme the client should use.
        headers.append((b"www-authenticate", b"Bearer"))
    return headers


async def send_error(error: AuthError, send: Send, *, status_200: bool) -> None:
    """Hasura's error body; HTTP 200 when the app mimics ``/v1/graphql`` (status in the body)."""
    body = error.to_json()
    await send(
        {
            "type": "http.response.start",
            "status": 200 if status_200 else error.status,
            "headers": error_headers(error, body),
        }
    )
    await send({"type": "http.response.body", "body": body})


async def respond(
    error: AuthError,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    status_200: bool,
    on_error: ErrorHook | None,
) -> None:
    """Answer with ``on_error``'s ASGI app when it gives one, else with Hasura's body."""
    if on_error is not None:
        response = on_error(scope, error)
        if response is not None:
            await response(scope, receive, send)
            return
    await send_error(error, send, status_200=status_200)
