"""`WebSocketAuth`: which socket authenticates where (spec 5), built once by the middleware.

GraphQL sockets authenticate at ``connection_init`` (`connection.Connection`); a socket that
offers neither GraphQL subprotocol is authenticated from the upgrade request before the app sees
``websocket.connect``, and refused before accept, unless it offers no subprotocol at all and
``default_protocol`` is ``"graphql-ws"`` (Hasura's reading of such a socket).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .._errors import AuthError
from .._events import HANDSHAKE_REFUSED, Events
from .._names import COOKIE_HEADER
from .._options import DEFAULT_WEBSOCKET_PROTOCOL
from .._outcomes import authenticate
from .._revocation import SocketRegistry
from .._session import SCOPE_KEY
from .._types import ASGIApp, Clock, Receive, Scope, Send
from .connection import Connection
from .frames import DEFAULT_MAX_INIT_BYTES
from .origins import cookies_trusted
from .protocols import PROTOCOLS, offered_protocol

if TYPE_CHECKING:
    from .._auth import Authenticator


class WebSocketAuth:
    """Authenticates ``websocket`` scopes for the middleware (spec 5); built once.

    ``allowed_origins`` holds normalised origins (`Settings` validates them) whose upgrade
    requests may authenticate with cookies besides same-host ones. ``max_init_bytes`` bounds a
    ``connection_init`` frame (spec 7.3). ``default_protocol`` is one of
    ``_options.WEBSOCKET_DEFAULT_PROTOCOLS`` (`Settings` validates it). ``sockets`` is where
    open sockets are found when a revocation names their token. ``events`` receives the
    sockets' events.
    """

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator,
        *,
        allowed_origins: frozenset[str] = frozenset(),
        clock: Clock = time.time,
        max_init_bytes: int = DEFAULT_MAX_INIT_BYTES,
        default_protocol: str = DEFAULT_WEBSOCKET_PROTOCOL,
        sockets: SocketRegistry | None = None,
        events: Events | None = None,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.clock = clock
        self.max_init_bytes = max_init_bytes
        self.allowed_origins = allowed_origins
        self.default_protocol = PROTOCOLS.get(default_protocol)  # "plain": None
        self.sockets = SocketRegistry() if sockets is None else sockets
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Only this middleware may put a session in the scope; a GraphQL socket has none until
        # its connection_init succeeds.
        scope.pop(SCOPE_KEY, None)
        protocol = offered_protocol(scope, self.default_protocol)
        if protocol is not None:
            await Connection(self, scope, receive, send, protocol).run()
            return
        # Ours (spec 5): a socket that offers neither GraphQL subprotocol is authenticated from
        # the upgrade request before the app sees websocket.connect.
        headers = self.upgrade_headers(scope)
        try:
            session = await authenticate(self.authenticator, headers, "websocket", self.events)
        except AuthError:
            # ASGI: websocket.close before websocket.accept makes the server answer HTTP 403.
            await send({"type": "websocket.close", "code": 1008})
            if self.events is not None:
                self.events.emit(HANDSHAKE_REFUSED)
            return
        scope[SCOPE_KEY] = session
        # A `Connection` is what can end it (expiry, revocation) and reports its open and close.
        if session.valid_until is None and session.subject is None and self.events is None:
            await self.app(scope, receive, send)  # nothing can end it: no wrapper needed
        else:
            await Connection(self, scope, receive, send, None).run(session)

    def upgrade_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        """The upgrade request's headers, without its cookies when a browser sent them from
        another site (spec 5, cross-site websocket hijacking).
        """
        headers: list[tuple[bytes, bytes]] = [(name, value) for name, value in scope["headers"]]
        if cookies_trusted(headers, self.allowed_origins):
            return headers
        return [(name, value) for name, value in headers if name != COOKIE_HEADER]
