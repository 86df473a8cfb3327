"""One websocket (spec 5): the app's ``receive``/``send`` go through a `Connection`, which
checks frames before init, runs ``connection_init``, and closes the socket at expiry or when
its token is revoked.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING, Any

import anyio

from .._errors import AuthError, WebSocketClosedError
from .._events import WEBSOCKET_OPEN, CloseReason, WebSocketEvent
from .._outcomes import authenticate
from .._session import SCOPE_KEY
from .._types import Message, Receive, Scope, Send
from .deadlines import Deadline
from .frames import frame_size, may_be_init, payload_headers, read_frame
from .protocols import (
    BEFORE_INIT,
    EXPIRED_REASON,
    FRAME_TOO_LARGE,
    INVALID_MESSAGE,
    PROTOCOLS,
    REVOKED_REASON,
    Protocol,
)

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from .._revocation import Subject
    from .._session import Session
    from .auth import WebSocketAuth


class Connection:
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
        protocol: Protocol | None,
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
        # The tokens that authenticated the socket (in the revocation registry while it runs).
        self.subjects: list[Subject] = []
        self._end: tuple[CloseReason, str] = ("expired", EXPIRED_REASON)
        self._accepted = False
        self._close_reason: CloseReason = "client"  # for the hooks; ours when we closed it

    async def run(self, session: Session | None = None) -> None:
        try:
            await self._run(session)
        finally:
            events = self._auth.events
            if events is not None and self._accepted:
                events.emit(WebSocketEvent("close", self._close_reason))

    async def _run(self, session: Session | None) -> None:
        app_error: Exception | None = None
        try:
            async with anyio.create_task_group() as task_group:
                self._task_group = task_group
                if session is not None:
                    self._authenticated(session)
                try:
                    await self._auth.app(self._scope, self.receive, self.send)
                except Exception as exc:
                    # Raised below, outside the task group, so that the server sees the app's
                    # own exception rather than an ExceptionGroup around it.
                    app_error = exc
                task_group.cancel_scope.cancel()  # the expiry waiter, if there is one
        finally:
            self._auth.sockets.discard(self)
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
            if not self._accepted and self._auth.events is not None:
                self._auth.events.emit(WEBSOCKET_OPEN)
            self._accepted = True
            accepted = PROTOCOLS.get(message.get("subprotocol") or "")
            if self._protocol is not None and accepted is not None:
                # Spec 5: the subprotocol the app accepts with decides the protocol.
                self._protocol = accepted
        elif kind != "websocket.send":
            # websocket.close, or a denial response (ASGI websocket.http.response extension):
            # the socket ends, and an expiry close must not follow.
            self._closed = True
        await self._send(message)

    async def _inspect(self, message: Message, protocol: Protocol) -> Message:
        """Pass a client frame on, or close the socket and return the app's disconnect."""
        data = message.get("text")
        if data is None:
            data = message.get("bytes") or b""
        if self._initialised:
            return await self._inspect_after_init(message, data, protocol)
        if frame_size(data) > self._auth.max_init_bytes:
            # Before authentication a client needs only connection_init, ping and pong: an
            # unauthenticated client does not get to make us parse a large frame (spec 7.3).
            return await self._close("unauthorized", 4400, FRAME_TOO_LARGE)
        frame = read_frame(data)
        if frame is None:
            # graphql-ws PROTOCOL.md, "Invalid message": 4400; spec 5 applies it to both.
            return await self._close("unauthorized", 4400, INVALID_MESSAGE)
        kind = frame["type"]
        if kind == "connection_init":
            return await self._init(message, frame, protocol)
        if kind in BEFORE_INIT:
            return message
        # Ours (spec 5): an app that ran an operation before init would be an auth bypass.
        return await self._close("unauthorized", *protocol.unauthorized)

    async def _inspect_after_init(
        self, message: Message, data: str | bytes, protocol: Protocol
    ) -> Message:
        """After a successful init the frames are the app's (spec 5); only a frame that is,
        strictly, a ``connection_init`` is ours: it re-authenticates.

        A frame the strict parser refuses goes to the app unexamined, and its protocol answers
        it. That opens no bypass: the socket is authenticated already, and the session in the
        scope is written only here, so however leniently the app reads such a frame (even as a
        ``connection_init`` with other headers) it cannot change who the socket is.
        """
        if not may_be_init(data):
            return message  # the common case: nothing to parse
        frame = read_frame(data)
        if frame is None or frame["type"] != "connection_init":
            return message
        if frame_size(data) > self._auth.max_init_bytes:
            return await self._close("unauthorized", 4400, FRAME_TOO_LARGE)
        return await self._init(message, frame, protocol)

    async def _init(self, message: Message, frame: dict[str, Any], protocol: Protocol) -> Message:
        headers = payload_headers(frame.get("payload"))
        if not self._initialised:
            # Spec 5: payload.headers, then the upgrade request's; a second init re-authenticates
            # with its payload only.
            headers += self._auth.upgrade_headers(self._scope)
        auth = self._auth
        try:
            session = await authenticate(auth.authenticator, headers, "websocket", auth.events)
        except AuthError as exc:
            error_frame, code, reason = protocol.init_failure(exc.message)
            return await self._close("init_failed", code, reason, error_frame)
        self._scope[SCOPE_KEY] = session
        self._initialised = True
        self._authenticated(session)
        return message

    def _authenticated(self, session: Session) -> None:
        if session.valid_until is not None:
            self._expire_at(session.valid_until)
        if session.subject is not None and session.subject not in self.subjects:
            # After a second init the first token still counts: revoking either closes the
            # socket, as the earlier expiry stays (spec 5). Repeated inits add nothing.
            self.subjects.append(session.subject)
            self._auth.sockets.add(self, session.subject)

    def revoke(self) -> None:
        """Close the socket as revoked, from its own expiry waiter (called from the revoking
        task; the close itself is sent by this socket's task group).
        """
        self._end = ("revoked", REVOKED_REASON)
        self._expire_at(-math.inf)

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
        await self._close(self._end[0], 4403, self._end[1])

    async def _close(
        self, why: CloseReason, code: int, reason: str, error_frame: str | None = None
    ) -> Message:
        """Close the socket under the app: the server gets the close; from now on the app's
        receive returns ``websocket.disconnect`` and its sends raise `WebSocketClosedError`.
        """
        disconnect: Message = {"type": "websocket.disconnect", "code": code, "reason": reason}
        if self._closed:
            return disconnect  # the app or the client closed it first: nothing to send
        self._closed = True
        self._close_reason = why
        self._disconnect = disconnect
        # ASGI 2.4: a send on a connection the client has already closed raises an OSError.
        with contextlib.suppress(OSError):
            if error_frame is not None:
                await self._send({"type": "websocket.send", "text": error_frame})
            await self._send({"type": "websocket.close", "code": code, "reason": reason})
        return disconnect
