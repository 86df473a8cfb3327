"""Websocket events under uvicorn with a real client: open when the app accepts, one close per
opened socket with its reason, the authentication of each handshake and ``connection_init``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from asgi_hasura_jwt import AuthEvent, Event, HasuraJWTMiddleware, WebSocketEvent

from .conftest import SigningKey
from .servers import serve
from .test_websocket_server import (
    CONFIG,
    EXPIRED,
    LEGACY,
    TRANSPORT,
    GraphQLApp,
    client,
    closed,
    init,
    operation,
    token,
)

pytestmark = pytest.mark.network

OPEN = WebSocketEvent("open")


def close(reason: str) -> WebSocketEvent:
    return WebSocketEvent("close", reason)  # type: ignore[arg-type]


def allowed(cache: str = "miss") -> Any:
    return _Matching(AuthEvent("websocket", "allowed", cache=cache))  # type: ignore[arg-type]


class _Matching:
    """Equal to an `AuthEvent` that differs from ``expected`` only in ``verify_seconds``."""

    def __init__(self, expected: AuthEvent) -> None:
        self.expected = expected

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AuthEvent):
            return False
        return other == AuthEvent(
            **{**_fields(self.expected), "verify_seconds": other.verify_seconds}
        )

    def __repr__(self) -> str:
        return f"~{self.expected!r}"


def _fields(event: AuthEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in AuthEvent.__dataclass_fields__}


@asynccontextmanager
async def server(**options: Any) -> AsyncIterator[tuple[str, GraphQLApp, list[Event]]]:
    app = GraphQLApp()
    events: list[Event] = []
    options.setdefault("jwt_secret", CONFIG)
    middleware = HasuraJWTMiddleware(app, environ={}, on_event=events.append, **options)
    async with serve(middleware, log_config=None) as base:
        yield base.replace("http://", "ws://") + "/graphql", app, events


@pytest.mark.parametrize("protocol", [TRANSPORT, LEGACY])
async def test_init_then_client_close(keys: dict[str, SigningKey], protocol: str) -> None:
    async with server() as (url, app, events):
        async with client(url, protocol) as ws:
            await ws.send(init(token(keys)))
            await ws.recv()
        await asyncio.wait_for(app.finished.wait(), 5)
    assert events == [OPEN, allowed(), close("client")]


@pytest.mark.parametrize(
    ("protocol", "code", "reason"),
    [
        (TRANSPORT, 4403, '{"message":"4403: Forbidden"}'),
        (
            LEGACY,
            4400,
            '{"message":"4400: Connection initialization failed: '
            'Could not verify JWT: JWTExpired"}',
        ),
    ],
)
async def test_refused_init(
    keys: dict[str, SigningKey], protocol: str, code: int, reason: str
) -> None:
    async with server() as (url, app, events), client(url, protocol) as ws:
        await ws.send(init(token(keys, exp=int(time.time()) - 600)))
        assert (await closed(ws))[:2] == (code, reason)
        await asyncio.wait_for(app.finished.wait(), 5)
    denied = AuthEvent(
        "websocket", "denied", "invalid-jwt", 400, "miss", None, "Could not verify JWT: JWTExpired"
    )
    assert events == [OPEN, _Matching(denied), close("init_failed")]


@pytest.mark.parametrize(("protocol", "frame"), [(TRANSPORT, None), (LEGACY, "not json")])
async def test_unauthorized_frames(protocol: str, frame: str | None) -> None:
    async with server() as (url, app, events), client(url, protocol) as ws:
        await ws.send(frame if frame is not None else operation(protocol))
        await closed(ws)
        await asyncio.wait_for(app.finished.wait(), 5)
    assert events == [OPEN, close("unauthorized")]


async def test_expiry_close(keys: dict[str, SigningKey]) -> None:
    soon = token(keys, exp=time.time() + 1)
    async with server() as (url, app, events), client(url, TRANSPORT) as ws:
        await ws.send(init(soon))
        await ws.recv()
        assert (await closed(ws))[:2] == (4403, EXPIRED)
        await asyncio.wait_for(app.finished.wait(), 5)
    assert events == [OPEN, allowed(), close("expired")]


async def test_plain_socket_refused_at_the_handshake() -> None:
    async with server() as (url, _app, events):
        with pytest.raises(InvalidStatus) as refused:
            async with client(url, None):
                pass
    assert refused.value.response.status_code == 403
    assert events == [
        AuthEvent(
            "websocket",
            "denied",
            "invalid-headers",
            400,
            message="Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
        ),
        WebSocketEvent("close", "init_failed", accepted=False),
    ]


async def test_plain_socket_without_expiry_still_reports_open_and_close() -> None:
    # An unauthorized-role session never expires; with a hook it still goes through a
    # Connection, which sees the accept and the end.
    async with server(unauthorized_role="guest") as (url, app, events):
        async with client(url, None) as ws:
            await ws.send("hello")
            await ws.recv()
        await asyncio.wait_for(app.finished.wait(), 5)
    assert events == [AuthEvent("websocket", "anonymous"), OPEN, close("client")]


async def test_public_websocket() -> None:
    async with server(public_paths=["/graphql"]) as (url, app, events):
        async with client(url, TRANSPORT) as ws:
            await ws.send(init())
            await ws.recv()
        await asyncio.wait_for(app.finished.wait(), 5)
    assert events == [AuthEvent("websocket", "public")]
