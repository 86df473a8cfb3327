"""Websocket glue (spec 5): GraphQL sockets authenticate at ``connection_init``, other sockets
at the handshake, and every socket whose session expires is closed at that instant.

`WebSocketAuth` is built once by the middleware; each socket gets a `_Connection` that owns the
wrapped ``receive`` / ``send`` and, when its session expires, one sleeping expiry waiter.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from . import _strict
from ._deadlines import Deadline
from ._errors import AuthError, as_auth_error
from ._names import COOKIE_HEADER
from ._origins import cookies_trusted
from ._session import SCOPE_KEY
from ._types import ASGIApp, Clock, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from ._auth import Authenticator
    from ._session import Session

DEFAULT_MAX_INIT_BYTES = 64 * 1024
# RFC 6455 section 5.5: a control frame carries at most 125 bytes, two of them the close code.
MAX_CLOSE_REASON_BYTES = 123

INVALID_MESSAGE = "Invalid message received"
FRAME_TOO_LARGE = "Invalid message received: frame too large"
EXPIRED_REASON = '{"message":"4403: Forbidden: JWT expired"}'
FORBIDDEN_REASON = '{"message":"4403: Forbidden"}'
INIT_FAILED_PREFIX = "4400: Connection initialization failed: "

# RFC 9110 section 5.6.2 (token) and 5.5 (field values never hold CR, LF or NUL): payload
# headers that no HTTP request could carry are dropped rather than handed to section 2.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_UNSAFE_VALUE = re.compile(r"[\r\n\x00]")


class WebSocketClosedError(OSError):
    """The app sent on a websocket the middleware had closed (failed init or expiry).

    ASGI 2.4 has servers raise an `OSError` subclass for a send on a closed connection; apps
    and frameworks (Starlette turns it into ``WebSocketDisconnect``) already handle that.
    """


@dataclass(frozen=True)
class _Protocol:
    """How a GraphQL websocket protocol refuses a client; everything else is shared."""

    # Close for an operation sent before a successful init.
    unauthorized: tuple[int, str]
    # The legacy protocol reports a failed init in a connection_error frame and in the reason.
    reports_init_error: bool

    def init_failure(self, message: str) -> tuple[str | None, int, str]:
        """The error frame to send (or ``None``), close code and close reason."""
        if self.reports_init_error:
            frame = _dumps({"type": "connection_error", "payload": message})
            return frame, 4400, _close_reason(INIT_FAILED_PREFIX, message)
        return None, 4403, FORBIDDEN_REASON


# graphql-ws PROTOCOL.md: "4401: Unauthorized" for a subscribe before the connection is
# acknowledged. subscriptions-transport-ws has no such code; spec 5 closes with its 4400.
_PROTOCOLS = {
    "graphql-transport-ws": _Protocol(
        unauthorized=(4401, "Unauthorized"), reports_init_error=False
    ),
    "graphql-ws": _Protocol(unauthorized=(4400, "Unauthorized"), reports_init_error=True),
}
# Frames that may reach the app before a successful init (spec 5).
_BEFORE_INIT = frozenset({"connection_init", "ping", "pong"})


class WebSocketAuth:
    """Authenticates ``websocket`` scopes for the middleware (spec 5); built once.

    ``allowed_origins`` holds normalised origins (`Settings` validates them) whose upgrade
    requests may authenticate with cookies besides same-host ones. ``max_init_bytes`` bounds a
    ``connection_init`` frame (spec 7.3).
    """

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator,
        *,
        allowed_origins: frozenset[str] = frozenset(),
        clock: Clock = time.time,
        max_init_bytes: int = DEFAULT_MAX_INIT_BYTES,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.clock = clock
        self.max_init_bytes = max_init_bytes
        self.allowed_origins = allowed_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only this middleware may put a session in the scope; a GraphQL socket has none until
        # its connection_init succeeds.
        scope.pop(SCOPE_KEY, None)
        protocol = _offered_protocol(scope)
        if protocol is not None:
            await _Connection(self, scope, receive, send, protocol).run()
            return
        # Ours (spec 5): a socket that offers neither GraphQL subprotocol is authenticated from
        # the upgrade request before the app sees websocket.connect.
        try:
            session = await self.authenticate(self.upgrade_headers(scope))
        except AuthError:
            # ASGI: websocket.close before websocket.accept makes the server answer HTTP 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        scope[SCOPE_KEY] = session
        if session.valid_until is None:
            await self.app(scope, receive, send)
        else:
            await _Connection(self, scope, receive, send, None).run(session)

    async def authenticate(self, headers: Sequence[tuple[bytes, bytes]]) -> Session:
        """Section 2 on these headers; every failure, expected or not, is an `AuthError`."""
        try:
            return await self.authenticator.authenticate(headers)
        except Exception as exc:
            # Fail closed (spec 3): an unexpected error is logged and becomes invalid-jwt.
            raise as_auth_error(exc)  # noqa: B904 - as_auth_error chains the cause itself

    def upgrade_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The upgrade request's headers, without its cookies when a browser sent them from
        another site (spec 5, cross-site websocket hijacking).
        """
        headers: list[tuple[bytes, bytes]] = [(name, value) for name, value in scope["headers"]]
        if cookies_trusted(headers, self.allowed_origins):
            return headers
        return [(name, value) for name, value in headers if name != COOKIE_HEADER]


class _Connection:
    """One websocket: the app's receive/send go through here, and so does the expiry close.

    ``protocol`` is ``None`` for a plain websocket (authenticated at the handshake; its frames
    are never read) and otherwise the GraphQL protocol the client offered, replaced by the one
    the app accepts with.
    """

    def __init__(
        self,
        auth: WebSocketAuth,
        scope: Scope,
        receive: Receive,
        send: Send,
        protocol: _Protocol | None,
    ) -> None:
        self._auth = auth
        self._scope = scope
        self._receive = receive
        self._send = send
        self._protocol = protocol
        self._initialised = False
        self._task_group: TaskGroup | None = None
        self._deadline: Deadline | None = None
        # True once a close went to the server or a disconnect came from it: no more closes.
        self._closed = False
        # What the app's receive returns once this middleware has closed the socket.
        self._disconnect: Message | None = None

    async def run(self, session: Session | None = None) -> None:
        app_error: Exception | None = None
        async with anyio.create_task_group() as task_group:
            self._task_group = task_group
            if session is not None and session.valid_until is not None:
                self._expire_at(session.valid_until)
            try:
                await self._auth.app(self._scope, self.receive, self.send)
            except Exception as exc:
                # Raised below, outside the task group, so that the server sees the app's own
                # exception rather than an ExceptionGroup around it.
                app_error = exc
            task_group.cancel_scope.cancel()  # the expiry waiter, if there is one
        if app_error is not None:
            raise app_error

    async def receive(self) -> Message:
        if self._disconnect is not None:
            return self._disconnect
        message = await self._receive()
        if self._disconnect is not None:
            # Closed under the app while it waited. The server answers its pending receive once
            # the connection is closed (ASGI: websocket.disconnect "from ... the server closing
            # the connection"); the app gets our code and reason, and no frame still queued.
            return self._disconnect
        if message["type"] == "websocket.disconnect":
            self._closed = True
        elif message["type"] == "websocket.receive" and self._protocol is not None:
            message = await self._inspect(message, self._protocol)
            # The expiry waiter may have closed the socket while an init was being checked.
            if self._disconnect is not None:
                return self._disconnect
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if self._disconnect is not None:
            if kind == "websocket.close":
                return  # the app may close before it has read our disconnect: already done
            raise WebSocketClosedError("the websocket was closed by asgi_hasura_jwt")
        if kind == "websocket.accept":
            accepted = _PROTOCOLS.get(message.get("subprotocol") or "")
            if self._protocol is not None and accepted is not None:
                # Spec 5: the subprotocol the app accepts with decides the protocol.
                self._protocol = accepted
        elif kind != "websocket.send":
            # websocket.close, or a denial response (ASGI websocket.http.response extension):
            # the socket ends, and an expiry close must not follow.
            self._closed = True
        await self._send(message)

    async def _inspect(self, message: Message, protocol: _Protocol) -> Message:
        """Pass a client frame on, or close the socket and return the app's disconnect."""
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        if self._initialised:
            return await self._inspect_after_init(message, data, protocol)
        if _size(data) > self._auth.max_init_bytes:
            # Before authentication a client needs only connection_init, ping and pong: an
            # unauthenticated client does not get to make us parse a large frame (spec 7.3).
            return await self._close(4400, FRAME_TOO_LARGE)
        frame = _read_frame(data)
        if frame is None:
            # graphql-ws PROTOCOL.md, "Invalid message": 4400; spec 5 applies it to both.
            return await self._close(4400, INVALID_MESSAGE)
        kind = frame["type"]
        if kind == "connection_init":
            return await self._init(message, frame, protocol)
        if kind in _BEFORE_INIT:
            return message
        # Ours (spec 5): an app that ran an operation before init would be an auth bypass.
        return await self._close(*protocol.unauthorized)

    async def _inspect_after_init(
        self, message: Message, data: str | bytes, protocol: _Protocol
    ) -> Message:
        """After a successful init the frames are the app's (spec 5); only a frame that is,
        strictly, a ``connection_init`` is ours: it re-authenticates.

        A frame the strict parser refuses goes to the app unexamined, and its protocol answers
        it. That opens no bypass: the socket is authenticated already, and the session in the
        scope is written only here, so however leniently the app reads such a frame (even as a
        ``connection_init`` with other headers) it cannot change who the socket is.
        """
        if not _may_be_init(data):
            return message  # the common case: nothing to parse
        frame = _read_frame(data)
        if frame is None or frame["type"] != "connection_init":
            return message
        if _size(data) > self._auth.max_init_bytes:
            return await self._close(4400, FRAME_TOO_LARGE)
        return await self._init(message, frame, protocol)

    async def _init(self, message: Message, frame: dict[str, Any], protocol: _Protocol) -> Message:
        headers = _payload_headers(frame.get("payload"))
        if not self._initialised:
            # Spec 5: payload.headers, then the upgrade request's; a second init re-authenticates
            # with its payload only.
            headers += self._auth.upgrade_headers(self._scope)
        try:
            session = await self._auth.authenticate(headers)
        except AuthError as exc:
            error_frame, code, reason = protocol.init_failure(exc.message)
            return await self._close(code, reason, error_frame)
        self._scope[SCOPE_KEY] = session
        self._initialised = True
        if session.valid_until is not None:
            self._expire_at(session.valid_until)
        return message

    def _expire_at(self, valid_until: float) -> None:
        if self._deadline is None:
            assert self._task_group is not None  # run() sets it before the app runs
            self._deadline = Deadline(self._auth.clock)
            self._task_group.start_soon(self._expire, self._deadline)
        # Spec 5: after a second init the earlier of the two deadlines stays.
        self._deadline.move_earlier(valid_until)

    async def _expire(self, deadline: Deadline) -> None:
        await deadline.wait()
        # Ours (spec 5): 4403 with a reason, so that clients reconnect with a fresh token.
        await self._close(4403, EXPIRED_REASON)

    async def _close(self, code: int, reason: str, error_frame: str | None = None) -> Message:
        """Close the socket under the app: the server gets the close; from now on the app's
        receive returns ``websocket.disconnect`` and its sends raise `WebSocketClosedError`.
        """
        disconnect: Message = {"type": "websocket.disconnect", "code": code, "reason": reason}
        if self._closed:
            return disconnect  # the app or the client closed it first: nothing to send
        self._closed = True
        self._disconnect = disconnect
        # ASGI 2.4: a send on a connection the client has already closed raises an OSError.
        with contextlib.suppress(OSError):
            if error_frame is not None:
                await self._send({"type": "websocket.send", "text": error_frame})
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        return disconnect


def _offered_protocol(scope: Scope) -> _Protocol | None:
    """The first GraphQL subprotocol the client offered (spec 5), if any."""
    for name in scope.get("subprotocols") or ():
        protocol = _PROTOCOLS.get(name)
        if protocol is not None:
            return protocol
    return None


def _may_be_init(data: str | bytes) -> bool:
    """Whether a frame could parse, strictly, as a ``connection_init`` message.

    Without a ``\\u`` escape a JSON string spells its letters literally, so a frame without
    the literal name cannot hold that type; UTF-16 or UTF-32 bytes never parse strictly.
    """
    if isinstance(data, bytes):
        return b"connection_init" in data or b"\\u" in data
    return "connection_init" in data or "\\u" in data


def _size(data: str | bytes) -> int:
    if isinstance(data, bytes):
        return len(data)
    return len(data.encode("utf-8", "surrogatepass"))


def _read_frame(data: str | bytes) -> dict[str, Any] | None:
    """The frame as a JSON object with a string ``type``, or ``None``.

    Strict JSON (spec 7.6): with duplicate names an app's parser could read another ``type``
    than ours.
    """
    try:
        frame = _strict.loads(data)
    except _strict.StrictDecodeError:
        return None
    if isinstance(frame, dict) and isinstance(frame.get("type"), str):
        return frame
    return None


def _payload_headers(payload: object) -> list[tuple[bytes, bytes]]:
    """``payload.headers`` as request headers (spec 5): names lower-cased, non-string values
    dropped, a payload or headers that is not an object counts as absent.
    """
    headers = payload.get("headers") if isinstance(payload, dict) else None
    if not isinstance(headers, dict):
        return []
    return [
        (name.lower().encode("ascii"), _header_bytes(value))
        for name, value in headers.items()
        if isinstance(value, str)
        and _HEADER_NAME.fullmatch(name)
        and not _UNSAFE_VALUE.search(value)
    ]


def _header_bytes(value: str) -> bytes:
    # Section 2 reads header bytes as UTF-8, as Hasura turns payload text into headers. A lone
    # surrogate (possible only in a hand-built text frame) becomes bytes that read as U+FFFD.
    return value.encode("utf-8", "surrogatepass")


def _dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def _close_reason(prefix: str, message: str) -> str:
    """``{"message": prefix + message}`` in at most 123 UTF-8 bytes, the message shortened.

    ASCII-only JSON (``ensure_ascii``), so that no text can make the reason invalid UTF-8.
    """
    reason = _dumps({"message": prefix + message})
    if len(reason) <= MAX_CLOSE_REASON_BYTES:
        return reason

    def shortened(kept: int) -> str:
        return _dumps({"message": f"{prefix}{message[:kept]}..."})

    # The longest prefix of the message that fits; every character costs at least one byte.
    low, high = 0, min(len(message), MAX_CLOSE_REASON_BYTES)
    while low < high:
        middle = (low + high + 1) // 2
        if len(shortened(middle)) <= MAX_CLOSE_REASON_BYTES:
            low = middle
        else:
            high = middle - 1
    return shortened(low)
