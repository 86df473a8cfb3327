"""HTTP glue (spec 2, 3): `HTTPAuth` authenticates one ``http`` scope for the middleware, and
answers a refused request with Hasura's error body after reading what it sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio

from ._errors import AuthError
from ._events import HTTP_CACHE_HIT, Events
from ._outcomes import authenticate
from ._session import SCOPE_KEY
from ._types import ASGIApp, Headers, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from ._auth import Authenticator

ErrorHook = Callable[[Scope, AuthError], "ASGIApp | None"]

# A refused request's body is read and dropped before the answer, up to this many bytes; past
# it the answer goes out anyway and the server decides the connection's fate.
MAX_DRAIN_BYTES = 1 << 20
# ... and for at most this long: a client trickling its body must not hold the request open.
MAX_DRAIN_SECONDS = 5.0


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


_EMPTY_BODY: Message = {"type": "http.request", "body": b"", "more_body": False}


async def discard_body(receive: Receive) -> bool:
    """Read the request body and drop it, up to `MAX_DRAIN_BYTES`; False if the client left.

    Answering with the body unread breaks the connection on real servers: granian's HTTP/1.1
    fails the next keep-alive request, and hypercorn's HTTP/2 tears down every stream of the
    connection when DATA arrives for a stream already answered.
    """
    read = 0
    with anyio.move_on_after(MAX_DRAIN_SECONDS):
        while True:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                return False
            read += len(message.get("body", b""))
            if not message.get("more_body", False) or read >= MAX_DRAIN_BYTES:
                return True
    return True


class _AfterDiscard:
    """The ``receive`` an ``on_error`` app gets: the body was dropped, so its first call gives
    an empty last chunk instead of waiting on the server (which would hold a body-reading app
    until the client gives up); later calls are the server's own.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._given = False

    async def __call__(self) -> Message:
        if self._given:
            return await self._receive()
        self._given = True
        return dict(_EMPTY_BODY)


async def respond(
    error: AuthError,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    status_200: bool,
    on_error: ErrorHook | None,
) -> None:
    """Drop the body, then answer with ``on_error``'s ASGI app when it gives one, else with
    Hasura's body. A client that left while its body was read gets neither.
    """
    if not await discard_body(receive):
        return
    if on_error is not None:
        response = on_error(scope, error)
        if response is not None:
            await response(scope, _AfterDiscard(receive), send)
            return
    await send_error(error, send, status_200=status_200)


class HTTPAuth:
    """Authenticates ``http`` scopes for the middleware; built once (the twin of
    `WebSocketAuth`). The session goes into the scope before ``app`` sees the request; a
    failure is answered here and ``app`` is not called.
    """

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator,
        *,
        errors_as_200: bool = False,
        on_error: ErrorHook | None = None,
        events: Events | None = None,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self._errors_as_200 = errors_as_200
        self._on_error = on_error
        self._events = events

    def serve_cached(self, scope: Scope) -> bool:
        """Store the session of a request whose token is cached (`cached_session`); False when
        the request needs the full path (``__call__``). Synchronous: most requests end here."""
        session = self.authenticator.cached_session(scope["headers"])
        if session is None:
            return False
        scope[SCOPE_KEY] = session
        if self._events is not None:
            self._events.emit(HTTP_CACHE_HIT)
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The full path, for a request `serve_cached` did not serve."""
        try:
            session = await authenticate(self.authenticator, scope["headers"], "http", self._events)
        except AuthError as error:
            await respond(
                error,
                scope,
                receive,
                send,
                status_200=self._errors_as_200,
                on_error=self._on_error,
            )
            return
        scope[SCOPE_KEY] = session
        await self.app(scope, receive, send)
