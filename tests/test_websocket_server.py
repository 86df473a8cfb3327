"""Spec 5 end to end: the middleware inside uvicorn on 127.0.0.1, a real `websockets` client,
both GraphQL protocols and plain websockets, real HS256 tokens.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from asgi_hasura_jwt import HasuraJWTMiddleware, get_session
from asgi_hasura_jwt._types import Message, Receive, Scope, Send
from asgi_hasura_jwt._websocket.protocols import INIT_FAILED_PREFIX, close_reason

from .conftest import HMAC_SECRET, NAMESPACE, SigningKey, mint, payload
from .servers import serve

pytestmark = pytest.mark.network

TRANSPORT = "graphql-transport-ws"
LEGACY = "graphql-ws"
CONFIG = {"type": "HS256", "key": HMAC_SECRET}
FORBIDDEN = '{"message":"4403: Forbidden"}'
EXPIRED = '{"message":"4403: Forbidden: JWT expired"}'


class GraphQLApp:
    """A raw ASGI websocket server speaking just enough of both GraphQL protocols (and plain
    websockets); it records every frame type and disconnect it sees.
    """

    def __init__(self, plain: bool = True) -> None:
        # plain=False: a socket that offers no subprotocol speaks the legacy protocol, as
        # Hasura's server reads it.
        self.plain = plain
        self.frames: list[str] = []
        self.disconnects: list[Message] = []
        self.finished = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._serve(scope, receive, send)
        finally:
            self.finished.set()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["type"] == "websocket.connect"
        offered = scope["subprotocols"]
        await send({"type": "websocket.accept", "subprotocol": offered[0] if offered else None})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self.disconnects.append(message)
                return
            session = get_session(scope)
            variables = dict(session) if session is not None else None
            if not offered and self.plain:  # plain websocket: echo the session
                await send({"type": "websocket.send", "text": json.dumps(variables)})
                continue
            frame = json.loads(message["text"])
            self.frames.append(frame["type"])
            if frame["type"] == "connection_init":
                reply: dict[str, Any] = {"type": "connection_ack", "payload": variables}
            elif frame["type"] in ("subscribe", "start"):
                kind = "next" if frame["type"] == "subscribe" else "data"
                reply = {"type": kind, "id": frame["id"], "payload": {"data": variables}}
            else:
                reply = {"type": "pong"}
            await send({"type": "websocket.send", "text": json.dumps(reply)})


@asynccontextmanager
async def server(
    ws: str = "auto", app: GraphQLApp | None = None, **options: Any
) -> AsyncIterator[tuple[str, GraphQLApp]]:
    app = app or GraphQLApp()
    options.setdefault("jwt_secret", CONFIG)
    middleware = HasuraJWTMiddleware(app, environ={}, **options)
    # log_config=None: uvicorn's loggers propagate, so an exception in the app reaches caplog.
    async with serve(middleware, log_config=None, ws=ws) as base:
        yield base.replace("http://", "ws://") + "/graphql", app


@pytest.fixture(autouse=True)
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing in these tests is an error for the server: no traceback may be logged."""
    yield
    assert not [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR], caplog.text


def client(
    url: str, subprotocol: str | None, headers: dict[str, str] | None = None, **options: Any
) -> Any:
    return connect(
        url,
        subprotocols=[Subprotocol(subprotocol)] if subprotocol else None,
        additional_headers=headers,
        proxy=None,
        **options,
    )


def init(token: str | None = None, **headers: str) -> str:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return json.dumps({"type": "connection_init", "payload": {"headers": headers}})


def operation(protocol: str) -> str:
    kind = "subscribe" if protocol == TRANSPORT else "start"
    return json.dumps({"type": kind, "id": "1", "payload": {"query": "subscription { s }"}})


async def closed(ws: ClientConnection) -> tuple[int, str, float]:
    """Wait for the server's close: (code, reason, wall-clock time it arrived)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except ConnectionClosed as exc:
        arrived = time.time()
        close = exc.rcvd
    assert close is not None
    return close.code, close.reason, arrived


def token(keys: dict[str, SigningKey], **claims: Any) -> str:
    return mint(keys["HS256"], payload(**claims))


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_session_reaches_the_app(keys: dict[str, SigningKey], protocol: str) -> None:
    async with server() as (url, app), client(url, protocol) as ws:
        assert ws.subprotocol == protocol
        await ws.send(init(token(keys), **{"X-Hasura-Role": "editor"}))
        ack = json.loads(await ws.recv())
        assert ack == {
            "type": "connection_ack",
            "payload": {"x-hasura-user-id": "user-1", "x-hasura-role": "editor"},
        }
        await ws.send(operation(protocol))
        result = json.loads(await ws.recv())
        assert result["payload"]["data"]["x-hasura-role"] == "editor"
    assert app.frames == ["connection_init", operation(protocol).split('"')[3]]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_upgrade_headers_alone_authenticate(
    keys: dict[str, SigningKey], protocol: str
) -> None:
    headers = {"Authorization": f"Bearer {token(keys)}"}
    async with server() as (url, _), client(url, protocol, headers) as ws:
        await ws.send('{"type":"connection_init"}')
        assert json.loads(await ws.recv())["payload"]["x-hasura-user-id"] == "user-1"


async def test_non_ascii_text_after_init(keys: dict[str, SigningKey]) -> None:
    # A role in the payload headers is UTF-8 text (spec 2.2); after init a subscribe that the
    # strict parser refuses (a \\u escape, nesting deeper than 32) is the app's (spec 5).
    claims = payload()
    claims[NAMESPACE]["x-hasura-allowed-roles"].append("rédacteur")
    variables: Any = "é"
    for _ in range(40):
        variables = [variables]
    deep = json.dumps({"type": "subscribe", "id": "1", "payload": {"variables": variables}})
    async with server() as (url, app), client(url, TRANSPORT) as ws:
        await ws.send(init(mint(keys["HS256"], claims), **{"x-hasura-role": "rédacteur"}))
        assert json.loads(await ws.recv())["payload"]["x-hasura-role"] == "rédacteur"
        await ws.send(deep)
        result = json.loads(await ws.recv())
        assert result["type"] == "next"
        assert result["payload"]["data"]["x-hasura-role"] == "rédacteur"
    assert app.frames == ["connection_init", "subscribe"]


REFUSALS = {
    "expired": "Could not verify JWT: JWTExpired",
    "invalid": "Could not verify JWT: JWSError JWSInvalidSignature",
    "missing": "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
    "both": "Could not verify JWT: Multiple JWTs found",
}


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
@pytest.mark.parametrize("case", list(REFUSALS))
async def test_refused_init(keys: dict[str, SigningKey], protocol: str, case: str) -> None:
    good = token(keys)
    frame, headers = {
        "expired": (init(token(keys, exp=int(time.time()) - 10)), None),
        "invalid": (init(good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")), None),
        "missing": (init(), None),
        "both": (init(good), {"Authorization": f"Bearer {good}"}),
    }[case]
    async with server() as (url, app), client(url, protocol, headers) as ws:
        await ws.send(frame)
        if protocol == LEGACY:
            error = json.loads(await ws.recv())
            assert error == {"type": "connection_error", "payload": REFUSALS[case]}
        code, reason, _ = await closed(ws)
    if protocol == LEGACY:
        assert code == 4400
        assert json.loads(reason) == {
            "message": f"4400: Connection initialization failed: {REFUSALS[case]}"
        }
    else:
        assert (code, reason) == (4403, FORBIDDEN)
    await asyncio.wait_for(app.finished.wait(), 5)
    assert app.frames == []  # the app never saw the failed init
    assert app.disconnects[0]["code"] == code


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_invalid_json_init(protocol: str) -> None:
    async with server() as (url, app), client(url, protocol) as ws:
        await ws.send('{"type": "connection_init", "payload": ')
        assert (await closed(ws))[:2] == (4400, "Invalid message received")
    assert app.frames == []


@pytest.mark.parametrize(("protocol", "code"), [(TRANSPORT, 4401), (LEGACY, 4400)])
async def test_operation_before_init(protocol: str, code: int) -> None:
    async with server() as (url, app), client(url, protocol) as ws:
        await ws.send('{"type":"ping"}')
        assert json.loads(await ws.recv()) == {"type": "pong"}  # ping/pong pass before init
        await ws.send(operation(protocol))
        assert (await closed(ws))[:2] == (code, "Unauthorized")
    await asyncio.wait_for(app.finished.wait(), 5)
    assert app.frames == ["ping"]  # never the operation


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY, None])
async def test_closed_at_expiry(keys: dict[str, SigningKey], protocol: str | None) -> None:
    exp = time.time() + 2  # fractional exp: the close time is measured against it exactly
    soon = token(keys, exp=exp)
    headers = None if protocol else {"Authorization": f"Bearer {soon}"}
    async with server() as (url, app), client(url, protocol, headers) as ws:
        await ws.send(init(soon) if protocol else "hello")
        await ws.recv()  # connection_ack, or the plain echo
        code, reason, arrived = await closed(ws)
    assert (code, reason) == (4403, EXPIRED)
    assert exp <= arrived < exp + 0.5
    await asyncio.wait_for(app.finished.wait(), 5)
    assert app.disconnects == [{"type": "websocket.disconnect", "code": 4403, "reason": EXPIRED}]


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY, None])
async def test_early_client_close_cancels_the_deadline(
    keys: dict[str, SigningKey], protocol: str | None
) -> None:
    later = token(keys, exp=int(time.time()) + 3600)
    headers = None if protocol else {"Authorization": f"Bearer {later}"}
    async with server() as (url, app):
        baseline = len(asyncio.all_tasks())
        async with client(url, protocol, headers) as ws:
            await ws.send(init(later) if protocol else "hello")
            await ws.recv()
            assert len(asyncio.all_tasks()) > baseline
        await asyncio.wait_for(app.finished.wait(), 5)
        assert app.disconnects[0]["code"] == 1000
        for _ in range(100):  # uvicorn closes the transport just after the app returns
            if len(asyncio.all_tasks()) <= baseline:
                break
            await asyncio.sleep(0.01)
        assert len(asyncio.all_tasks()) <= baseline


async def test_plain_websocket_is_authenticated_at_the_handshake(
    keys: dict[str, SigningKey],
) -> None:
    async with server() as (url, _):
        headers = {"Authorization": f"Bearer {token(keys)}"}
        async with client(url, None, headers) as ws:
            await ws.send("anything")  # never parsed by the middleware
            assert json.loads(await ws.recv())["x-hasura-user-id"] == "user-1"
        with pytest.raises(InvalidStatus) as refused:
            async with client(url, None, {"Authorization": "Bearer nope"}):
                pass
    # ASGI: websocket.close before websocket.accept is answered with HTTP 403
    assert refused.value.response.status_code == 403


async def test_hasura_style_client_without_subprotocol(keys: dict[str, SigningKey]) -> None:
    """Hasura's own test client: no subprotocol, the token in connection_init's payload headers
    (legacy graphql-ws); with websocket_default_protocol="graphql-ws" it is served as Hasura
    serves it. The default still refuses it at the handshake.
    """
    legacy = {"websocket_default_protocol": "graphql-ws"}
    async with server(app=GraphQLApp(plain=False), **legacy) as (url, app):
        async with client(url, None) as ws:
            assert ws.subprotocol is None
            await ws.send(init(token(keys)))
            ack = json.loads(await ws.recv())
            assert ack == {
                "type": "connection_ack",
                "payload": {"x-hasura-user-id": "user-1", "x-hasura-role": "user"},
            }
            await ws.send(operation(LEGACY))
            assert json.loads(await ws.recv())["payload"]["data"]["x-hasura-user-id"] == "user-1"
        async with client(url, None) as ws:
            await ws.send(init("forged"))
            refusal = json.loads(await ws.recv())
            code, reason, _ = await closed(ws)
        assert refusal["type"] == "connection_error"
        assert refusal["payload"].startswith("Could not verify JWT: ")
        assert code == 4400
        assert reason == close_reason(INIT_FAILED_PREFIX, refusal["payload"])
        assert app.frames == ["connection_init", "start"]
    async with server(app=GraphQLApp(plain=False)) as (url, _):
        with pytest.raises(InvalidStatus) as refused:
            async with client(url, None):
                pass
    assert refused.value.response.status_code == 403


async def test_cookies_follow_the_origin_rule(keys: dict[str, SigningKey]) -> None:
    cookie = {"Cookie": f"__session={token(keys)}"}
    config = {**CONFIG, "header": {"type": "Cookie", "name": "__session"}}
    async with server(jwt_secret=config, allowed_origins=["https://app.example"]) as (url, _):
        same_host = url.replace("ws://", "http://").removesuffix("/graphql")
        for origin in (None, same_host, "https://app.example"):
            async with client(url, TRANSPORT, cookie, origin=origin) as ws:
                await ws.send('{"type":"connection_init"}')
                assert json.loads(await ws.recv())["type"] == "connection_ack", origin
        async with client(url, TRANSPORT, cookie, origin="https://evil.example") as ws:
            await ws.send('{"type":"connection_init"}')
            assert (await closed(ws))[:2] == (4403, FORBIDDEN)
        with pytest.raises(InvalidStatus):
            async with client(url, None, cookie, origin="https://evil.example"):
                pass


async def test_unauthorized_role_sessions_do_not_expire() -> None:
    async with server(unauthorized_role="anonymous") as (url, _), client(url, LEGACY) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["payload"] == {"x-hasura-role": "anonymous"}


async def test_wsproto_server(keys: dict[str, SigningKey]) -> None:
    """The tests above run uvicorn's default websockets-sansio protocol; the app must learn of
    our closes (ASGI: websocket.disconnect once the server has closed the connection) under
    its wsproto one too. (Its deprecated legacy `websockets` one warns on every handshake with
    websockets 17, which this suite turns into errors.)
    """
    async with server(ws="wsproto") as (url, app):
        async with client(url, LEGACY) as ws:
            await ws.send(init("forged"))
            assert json.loads(await ws.recv())["type"] == "connection_error"
            assert (await closed(ws))[0] == 4400
        await asyncio.wait_for(app.finished.wait(), 5)
        assert app.disconnects[0]["code"] == 4400
        app.finished.clear()
        exp = time.time() + 1
        async with client(url, TRANSPORT) as ws:
            await ws.send(init(token(keys, exp=exp)))
            await ws.recv()
            code, reason, arrived = await closed(ws)
        assert (code, reason) == (4403, EXPIRED)
        assert exp <= arrived < exp + 0.5
        await asyncio.wait_for(app.finished.wait(), 5)
        assert app.disconnects[1] == {
            "type": "websocket.disconnect",
            "code": 4403,
            "reason": EXPIRED,
        }
