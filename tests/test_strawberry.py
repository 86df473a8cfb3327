"""A real GraphQL server (Strawberry's ASGI app) behind the middleware, under uvicorn: the
subscription resolver reads the session from the websocket's scope, over both protocols.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import strawberry
from strawberry.asgi import GraphQL
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from asgi_hasura_jwt import HasuraJWTMiddleware, WebSocketClosedError, get_session

from .conftest import HMAC_SECRET, SigningKey, mint, payload
from .servers import serve

pytestmark = pytest.mark.network

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def whoami(self, info: strawberry.Info) -> AsyncGenerator[str, None]:
        # Strawberry's ASGI view puts the Starlette WebSocket in the context; its scope is the
        # dict the middleware stored the session in.
        session = get_session(info.context["request"].scope)
        assert session is not None
        yield f"{session['x-hasura-user-id']}/{session.role}"

    @strawberry.subscription
    async def ticks(self) -> AsyncGenerator[int, None]:
        tick = 0
        while True:
            yield tick
            tick += 1
            await asyncio.sleep(0.05)


@asynccontextmanager
async def graphql_server() -> AsyncIterator[str]:
    app = GraphQL(strawberry.Schema(query=Query, subscription=Subscription))
    middleware = HasuraJWTMiddleware(
        app, jwt_secret={"type": "HS256", "key": HMAC_SECRET}, environ={}
    )
    # log_config=None: uvicorn's loggers propagate, so an exception in the app reaches caplog.
    async with serve(middleware, log_config=None) as base:
        yield base.replace("http://", "ws://") + "/graphql"


def client(url: str, protocol: str) -> connect:
    return connect(url, subprotocols=[Subprotocol(protocol)], proxy=None)


async def start(ws: ClientConnection, protocol: str, token: str, query: str) -> None:
    """connection_init with the token, wait for the ack, then start ``query`` as id 1."""
    headers = {"Authorization": f"Bearer {token}", "x-hasura-role": "editor"}
    await ws.send(json.dumps({"type": "connection_init", "payload": {"headers": headers}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    kind = "subscribe" if protocol == TRANSPORT else "start"
    await ws.send(json.dumps({"type": kind, "id": "1", "payload": {"query": query}}))


async def closed(ws: ClientConnection) -> tuple[int, str]:
    """Read frames until the server closes; the close code and reason."""
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert frame["type"] in ("next", "data", "connection_error"), frame
    except ConnectionClosed as exc:
        close = exc.rcvd
    assert close is not None
    return close.code, close.reason


async def next_data(ws: ClientConnection) -> Any:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] in ("next", "data"):
            return frame["payload"]["data"]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_subscription_resolver_reads_the_session(
    keys: dict[str, SigningKey], protocol: str
) -> None:
    token = mint(keys["HS256"], payload())
    async with graphql_server() as url, client(url, protocol) as ws:
        await start(ws, protocol, token, "subscription { whoami }")
        assert await next_data(ws) == {"whoami": "user-1/editor"}


@pytest.mark.parametrize(("protocol", "code"), [(TRANSPORT, 4403), (LEGACY, 4400)])
async def test_refused_init_never_reaches_strawberry(protocol: str, code: int) -> None:
    async with graphql_server() as url, client(url, protocol) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        code_received, _ = await closed(ws)  # legacy: connection_error first; never an ack
    assert code_received == code


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_running_subscription_is_closed_at_expiry(
    keys: dict[str, SigningKey], protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    exp = time.time() + 2  # room for the server start on a loaded machine
    token = mint(keys["HS256"], payload(exp=exp))
    with caplog.at_level(logging.WARNING):
        async with graphql_server() as url, client(url, protocol) as ws:
            await start(ws, protocol, token, "subscription { ticks }")
            assert await next_data(ws) == {"ticks": 0}
            close = await closed(ws)
            arrived = time.time()
    assert close == (4403, '{"message":"4403: Forbidden: JWT expired"}')
    assert exp <= arrived < exp + 0.5
    # Strawberry sees a disconnect and stops its operation: no error from the middleware or
    # uvicorn. One record is Strawberry's own and racy: a tick sent between the close and its
    # reader seeing the disconnect fails with WebSocketClosedError (ASGI: a send on a closed
    # socket raises an OSError), which Strawberry logs as it does for a client that leaves
    # mid-send under any server.
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and not _send_race(r)]
    assert not errors, caplog.text


def _send_race(record: logging.LogRecord) -> bool:
    error = record.exc_info[1] if record.exc_info else None
    while error is not None and not isinstance(error, WebSocketClosedError):
        error = error.__cause__ or error.__context__
    return record.name == "strawberry.ws.task" and error is not None
