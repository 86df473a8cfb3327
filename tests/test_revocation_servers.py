"""Two real uvicorn processes sharing revocations through a real redis-server: a revoke made
through one (its ``POST /revoke``) closes a websocket held by the other within a second, and the
token that other process had cached is refused there.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import HMAC_SECRET, SigningKey, mint, payload
from .redis_server import RedisServer, redis_server
from .servers import free_port, spawn
from .test_websocket_server import TRANSPORT, client, closed, init

pytestmark = pytest.mark.network

REVOKED = '{"message":"4403: Forbidden: session revoked"}'


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as server:
        yield server


def uvicorn(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "uvicorn", "--factory", "tests.revocation_app:create_app"),
        *("--host", "127.0.0.1", "--port", str(port), "--lifespan", "on"),
        *("--log-level", "warning"),
    ]


async def test_a_revoke_through_one_process_ends_the_session_in_another(
    redis: RedisServer,
) -> None:
    env = {
        "HASURA_GRAPHQL_JWT_SECRET": json.dumps({"type": "HS256", "key": HMAC_SECRET}),
        "REVOCATIONS": redis.url,
    }
    holder, revoker = free_port(), free_port()
    value = mint(SigningKey.hmac(HMAC_SECRET), payload(sub="user-7"))
    headers = {"Authorization": f"Bearer {value}"}
    with (
        spawn(uvicorn(holder), f"http://127.0.0.1:{holder}/health", env=env),
        spawn(uvicorn(revoker), f"http://127.0.0.1:{revoker}/health", env=env),
    ):
        async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
            answer = await http.post(f"http://127.0.0.1:{holder}/graphql", headers=headers)
            assert answer.json()["x-hasura-role"] == "user"  # verified, now cached
            async with client(f"ws://127.0.0.1:{holder}/graphql", TRANSPORT) as ws:
                await ws.send(init(value))
                assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == (
                    "connection_ack"
                )
                started = time.time()
                revoke = await http.post(
                    f"http://127.0.0.1:{revoker}/revoke", json={"sub": "user-7"}
                )
                assert revoke.status_code == 200
                code, reason, arrived = await closed(ws)
            assert (code, reason) == (4403, REVOKED)
            assert arrived - started < 1
            refused = await http.post(f"http://127.0.0.1:{holder}/graphql", headers=headers)
            assert refused.status_code == 400
            assert refused.json()["errors"][0]["message"] == "Could not verify JWT: JWTRevoked"
            other = mint(SigningKey.hmac(HMAC_SECRET), payload(sub="user-8"))
            accepted = await http.post(
                f"http://127.0.0.1:{holder}/graphql", headers={"Authorization": f"Bearer {other}"}
            )
            assert accepted.status_code == 200
