"""`WebhookApp`: the pure-ASGI app answering Hasura's auth webhook with the middleware's core.

Routes: ``/auth`` (GET and POST: Hasura's two modes), ``/healthz`` (alive), ``/readyz`` (every
remote key set has keys), ``/metrics`` (with the prometheus extra). The lifespan runs the JWKS
refreshers, as under the middleware, and closes the fallback's client at shutdown.
"""

from __future__ import annotations

import dataclasses
import logging

from .._core import Core
from .._errors import AuthError, internal_error
from .._events import HTTP_CACHE_HIT
from .._jwks import JWKSStatus, handle_lifespan
from .._outcomes import authenticate
from .._types import Receive, Scope, Send
from ._fallback import Fallback
from ._incoming import Incoming, read_post
from ._metrics import Metrics
from ._reply import Reply, granted, json_reply, unauthorized

logger = logging.getLogger("asgi_hasura_jwt.webhook")

AUTH_PATH = "/auth"
_NOT_FOUND = json_reply(404, {"error": "not found"})
_AUTH_METHODS = json_reply(405, {"error": "method not allowed"}, (b"allow", b"GET, POST"))


class WebhookApp:
    """Built by `create_app`; ``jwks_status()`` as the middleware's."""

    def __init__(self, core: Core, *, fallback: Fallback | None, metrics: Metrics | None) -> None:
        self._core = core
        self.settings = core.settings
        self._authenticator = core.authenticator
        self._clock = core.settings.clock
        self._fallback = fallback
        self.metrics = metrics

    def jwks_status(self) -> list[JWKSStatus]:
        """The state of every remote key set (spec 4.3), as ``/readyz`` reports it."""
        return self._core.jwks_status()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await handle_lifespan(self._lifespan, scope, receive, send, self._core.background)
        elif kind == "http":
            if scope["path"] == AUTH_PATH:
                await self._auth(scope, receive, send)
            else:
                await self._route(scope["path"]).send(send)
        elif kind == "websocket":
            await receive()  # websocket.connect; Hasura never opens one to its webhook
            await send({"type": "websocket.close", "code": 1008})

    def _route(self, path: str) -> Reply:
        if path == "/healthz":
            return json_reply(200, {"status": "ok"})
        if path == "/readyz":
            statuses = self.jwks_status()
            ready = all(status.ready for status in statuses)
            return json_reply(200 if ready else 503, [dataclasses.asdict(s) for s in statuses])
        if path == "/metrics" and self.metrics is not None:
            return Reply(200, self.metrics.render(), [(b"content-type", Metrics.content_type)])
        return _NOT_FOUND

    async def _auth(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            reply = await self._authenticate(scope, receive)
        except Exception as exc:
            # Never a 500: Hasura would fail the client's request as its own internal error.
            reply = unauthorized(internal_error(exc))
        if reply is not None:
            await reply.send(send)

    async def _authenticate(self, scope: Scope, receive: Receive) -> Reply | None:
        method = scope["method"]
        if method == "GET":
            incoming = Incoming(scope["headers"])
        elif method == "POST":
            try:
                read = await read_post(scope, receive)
            except AuthError as error:
                return unauthorized(error)
            if read is None:  # the client left
                return None
            incoming = read
        else:
            return _AUTH_METHODS
        authenticator, events = self._authenticator, self._core.events
        # The synchronous cache-hit path first, as in the middleware; the same events too.
        session = authenticator.cached_session(incoming.headers)
        if session is not None:
            if events is not None:
                events.emit(HTTP_CACHE_HIT)
        else:
            try:
                session = await authenticate(authenticator, incoming.headers, "http", events)
            except AuthError as error:
                if error.unclaimed and self._fallback is not None:
                    return await self._fallback.forward(incoming)
                return unauthorized(error)
        return granted(session, self._clock())

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._fallback is not None:
                    await self._fallback.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
