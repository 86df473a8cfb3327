"""The app of the revocation tests: a process of a fleet, run by uvicorn as
``--factory tests.revocation_app:create_app`` (configured from the environment:
``HASURA_GRAPHQL_JWT_SECRET`` and ``REVOCATIONS``, the store's URL), or in process (`inner`).

``POST /revoke`` with ``{"sub": ..., "sid": ...}`` calls this process's middleware, reached
through the app's own reference; any other HTTP request answers its session; websockets speak
just enough graphql-transport-ws to be acknowledged.
"""

from __future__ import annotations

import json
import os
from typing import Any

from asgi_hasura_jwt import HasuraJWTMiddleware, get_session
from asgi_hasura_jwt._types import Receive, Scope, Send


class Inner:
    def __init__(self) -> None:
        self.middleware: HasuraJWTMiddleware | None = None  # set by whoever wraps this app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (kind := (await receive())["type"]) != "lifespan.shutdown":
                await send({"type": f"{kind}.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.accept", "subprotocol": "graphql-transport-ws"})
            while (message := await receive())["type"] != "websocket.disconnect":
                if json.loads(message["text"])["type"] == "connection_init":
                    await send({"type": "websocket.send", "text": '{"type":"connection_ack"}'})
        else:
            await self._http(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while (message := await receive()).get("more_body"):
            body += message.get("body", b"")
        body += message.get("body", b"")
        answer: Any = None
        if scope["path"] == "/revoke":
            assert self.middleware is not None
            await self.middleware.revoke(**json.loads(body))
        elif (session := get_session(scope)) is not None:
            answer = dict(session)
        data = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def wrap(**options: Any) -> HasuraJWTMiddleware:
    inner = Inner()
    options.setdefault("public_paths", ["/health", "/revoke"])
    inner.middleware = HasuraJWTMiddleware(inner, **options)
    return inner.middleware


def create_app() -> HasuraJWTMiddleware:
    return wrap(revocations=os.environ["REVOCATIONS"])
