"""The app that tests/test_servers.py runs under every server, as ``tests.server_app:app``.

Raw ASGI behind `HasuraJWTMiddleware`, configured only from the environment the test gives the
server process (``HASURA_GRAPHQL_JWT_SECRET``). HTTP answers the session and the client's
address (so a test can see that two requests shared a connection) after reading the body;
websockets speak just enough graphql-transport-ws to be acknowledged.
"""

from __future__ import annotations

import json
from typing import Any

from asgi_hasura_jwt import HasuraJWTMiddleware, get_session
from asgi_hasura_jwt._types import Receive, Scope, Send


async def _http(scope: Scope, receive: Receive, send: Send) -> None:
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        size += len(message.get("body", b""))
        more = message.get("more_body", False)
    session = get_session(scope)
    client = scope.get("client")
    answer: dict[str, Any] = {
        "session": dict(session) if session is not None else None,
        "client": list(client) if client else None,
        "body_bytes": size,
    }
    body = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _websocket(scope: Scope, receive: Receive, send: Send) -> None:
    assert (await receive())["type"] == "websocket.connect"
    offered = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if json.loads(message["text"])["type"] == "connection_init":
            session = get_session(scope)
            ack = {"type": "connection_ack", "payload": dict(session) if session else None}
            await send({"type": "websocket.send", "text": json.dumps(ack)})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        kind = message["type"].removeprefix("lifespan.")
        await send({"type": f"lifespan.{kind}.complete"})
        if kind == "shutdown":
            return


async def inner(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    else:
        await _lifespan(receive, send)


app = HasuraJWTMiddleware(inner, public_paths=["/health"])
