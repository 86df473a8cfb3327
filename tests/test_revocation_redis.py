"""Revocations shared through a real ``redis-server`` on 127.0.0.1: middlewares in one process,
each with its own lifespan, store and cache, as the processes of a fleet would be; outages
(stopped, killed, paused), a process started later, reconnection.

Two real server processes are in test_revocation_servers.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from asgi_hasura_jwt import HasuraJWTMiddleware
from asgi_hasura_jwt._revocation.redis import RedisStore

from .conftest import HMAC_SECRET, SigningKey, mint, payload
from .redis_server import RedisServer, redis_server
from .revocation_app import wrap
from .servers import serve
from .test_websocket_server import TRANSPORT, client, closed, init

pytestmark = pytest.mark.network

CONFIG = {"type": "HS256", "key": HMAC_SECRET}
KEY = SigningKey.hmac(HMAC_SECRET)
REVOKED = '{"message":"4403: Forbidden: session revoked"}'
REFUSED = {
    "errors": [
        {
            "message": "Could not verify JWT: JWTRevoked",
            "extensions": {"path": "$", "code": "invalid-jwt"},
        }
    ]
}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


class Process:
    """One middleware served by uvicorn with its lifespan: a process of the fleet."""

    def __init__(self, middleware: HasuraJWTMiddleware, base: str) -> None:
        self.middleware = middleware
        self.base = base
        self.ws = base.replace("http://", "ws://") + "/graphql"

    async def status(self, token: str) -> int:
        async with httpx.AsyncClient(trust_env=False) as http:
            response = await http.post(
                f"{self.base}/graphql", headers={"Authorization": f"Bearer {token}"}
            )
        if response.status_code == 400:
            assert response.json() == REFUSED
        return response.status_code


@asynccontextmanager
async def fleet(revocations: Any, count: int) -> AsyncIterator[list[Process]]:
    async with AsyncExitStack() as stack:
        processes = []
        for _ in range(count):
            middleware = wrap(jwt_secret=CONFIG, environ={}, revocations=revocations())
            base = await stack.enter_async_context(serve(middleware, lifespan="on"))
            processes.append(Process(middleware, base))
        yield processes


def url_of(redis: RedisServer) -> Callable[[], Any]:
    return lambda: redis.url


def token(sub: str = "user-1", **claims: Any) -> str:
    return mint(KEY, payload(sub=sub, **claims))


async def refuses(process: Process, sub: str) -> bool:
    return await process.status(token(sub)) == 400


async def eventually(check: Callable[[], Any], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        assert time.monotonic() < deadline, "not within the time allowed"
        await asyncio.sleep(0.02)


async def test_a_revocation_in_one_process_reaches_the_others(redis: RedisServer) -> None:
    async with fleet(url_of(redis), 2) as (revoker, holder):
        value = token(sid="sess_1")
        assert await holder.status(value) == 200  # cached there
        assert holder.middleware.revocation_status().connected is True
        async with client(holder.ws, TRANSPORT) as ws:
            await ws.send(init(value))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            revoked_at = time.time()
            await revoker.middleware.revoke(sub="user-1")
            code, reason, arrived = await closed(ws)
        assert (code, reason) == (4403, REVOKED)
        assert arrived - revoked_at < 1
        assert await holder.status(value) == 400
        assert await holder.status(token("user-2")) == 200
        status = revoker.middleware.revocation_status()
        assert (status.entries, status.shared, status.connected, status.pending) == (
            1,
            True,
            True,
            0,
        )


async def test_a_process_started_later_loads_the_revocations_in_force(
    redis: RedisServer,
) -> None:
    value = token(sid="sess_1")
    async with fleet(url_of(redis), 1) as (revoker,):
        await revoker.middleware.revoke(sid="sess_1")
        await revoker.middleware.revoke(sub="user-9")
        await eventually(lambda: revoker.middleware.revocation_status().pending == 0)
        async with fleet(url_of(redis), 1) as (late,):
            # Loaded during startup: refused from the first request on.
            assert late.middleware.revocation_status().entries == 2
            assert await late.status(value) == 400
            assert await late.status(token("user-9")) == 400
            assert await late.status(token("user-2")) == 200


@pytest.mark.parametrize("kill", [False, True], ids=["stopped", "killed"])
async def test_an_outage_keeps_the_known_list_and_catches_up(
    redis: RedisServer, kill: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "asgi_hasura_jwt.revocation")
    async with fleet(url_of(redis), 2) as (a, b):
        await a.middleware.revoke(sub="user-1")
        await eventually(lambda: b.middleware.revocation_status().entries == 1)
        redis.stop(kill=kill)
        await eventually(lambda: b.middleware.revocation_status().connected is False)
        assert "Redis unreachable" in caplog.text
        # The last known list still applies; valid tokens are still accepted.
        assert await b.status(token("user-1")) == 400
        assert await b.status(token("user-2")) == 200
        # Made during the outage: applies at once here, queued for the others.
        await a.middleware.revoke(sub="user-3")
        assert await a.status(token("user-3")) == 400
        assert await b.status(token("user-3")) == 200
        assert a.middleware.revocation_status().pending == 1
        redis.start()  # same port, empty: no persistence
        await eventually(lambda: a.middleware.revocation_status().pending == 0)
        await eventually(lambda: refuses(b, "user-3"))
        assert "connected to Redis" in caplog.text
        # Reconnected for good: a new revocation arrives through the subscription.
        await eventually(lambda: b.middleware.revocation_status().connected is True)
        await a.middleware.revoke(sub="user-4")
        await eventually(lambda: refuses(b, "user-4"), timeout=1)


async def test_a_silent_outage_is_noticed_by_the_heartbeat(redis: RedisServer) -> None:
    def store() -> RedisStore:
        return RedisStore(redis.url, heartbeat=0.2, retry_delays=(0.05, 0.2))

    async with fleet(store, 2) as (a, b):
        redis.pause()  # connections stay open, nothing answers
        try:
            await eventually(lambda: b.middleware.revocation_status().connected is False, 3)
            started = time.monotonic()
            await a.middleware.revoke(sub="user-1")  # never waits on Redis
            assert time.monotonic() - started < 0.1
            assert await a.status(token()) == 400
        finally:
            redis.resume()
        await eventually(lambda: refuses(b, "user-1"))
