"""Every recipe in examples/ run as documented: under uvicorn on loopback, called with httpx (and
a websocket client for the subscription recipe)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from examples import fastapi_app, quart_app, raw_asgi, starlette_app, strawberry_subscriptions

from .conftest import HMAC_SECRET, SigningKey, mint, payload
from .servers import serve

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parent.parent
CONFIG = {"type": "HS256", "key": HMAC_SECRET}
MISSING = {
    "errors": [
        {
            "message": "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
            "extensions": {"path": "$", "code": "invalid-headers"},
        }
    ]
}
SESSION = {"x-hasura-user-id": "user-1", "x-hasura-role": "editor"}


def bearer(key: SigningKey, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(key, payload(**claims))}", "x-hasura-role": "editor"}


@pytest.mark.parametrize(
    ("factory", "expected"),
    [
        (starlette_app.create_app, {"role": "editor", "session": SESSION}),
        (quart_app.create_app, {"role": "editor", "session": SESSION}),
        (fastapi_app.create_app, SESSION),
    ],
    ids=["starlette", "quart", "fastapi"],
)
async def test_framework_recipe(
    keys: dict[str, SigningKey], factory: Callable[..., Any], expected: Any
) -> None:
    # lifespan on: Starlette and FastAPI build their middleware stack at startup.
    app = factory(jwt_secret=CONFIG, environ={})
    async with serve(app, lifespan="on") as base, httpx.AsyncClient(base_url=base) as client:
        ok = await client.get("/me", headers=bearer(keys["HS256"]))
        assert ok.status_code == 200, ok.text
        assert ok.json() == expected
        refused = await client.get("/me")
        assert refused.status_code == 400
        assert refused.json() == MISSING


async def test_raw_asgi_recipe(keys: dict[str, SigningKey]) -> None:
    app = raw_asgi.create_app(jwt_secret=CONFIG, environ={})
    async with serve(app, lifespan="auto") as base, httpx.AsyncClient(base_url=base) as client:
        ok = await client.get("/anything", headers=bearer(keys["HS256"]))
        assert ok.json() == SESSION
        assert (await client.get("/anything")).json() == MISSING


async def test_starlette_public_health_check() -> None:
    app = starlette_app.create_app(jwt_secret=CONFIG, environ={})
    async with serve(app, lifespan="on") as base, httpx.AsyncClient(base_url=base) as client:
        assert (await client.get("/healthz")).json() == {"ok": True}


async def graphql_ws(base: str, token: str, query: str) -> tuple[list[Any], int | None, str]:
    """Run one subscription until the server closes the socket: (payloads, code, reason)."""
    payloads: list[Any] = []
    url = base.replace("http://", "ws://")
    async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        headers = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": {"headers": headers}}))
        assert json.loads(await ws.recv()) == {"type": "connection_ack"}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        try:
            async for frame in ws:
                payloads.append(json.loads(frame)["payload"])
        except ConnectionClosed:
            pass
        return payloads, ws.close_code, ws.close_reason or ""


async def test_strawberry_recipe(keys: dict[str, SigningKey]) -> None:
    app = strawberry_subscriptions.create_app(jwt_secret=CONFIG, environ={})
    exp = int(time.time()) + 2
    token = mint(keys["HS256"], payload(exp=exp))
    async with serve(app) as base, httpx.AsyncClient(base_url=base) as client:
        headers = {"Authorization": f"Bearer {token}"}
        typename = await client.post(base, json={"query": "query { __typename }"}, headers=headers)
        assert typename.json() == {"data": {"__typename": "query_root"}}
        me = await client.post(base, json={"query": "{ me }"}, headers=headers)
        assert me.json() == {
            "data": {"me": {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}}
        }

        query = "subscription { session(interval: 0.2) { tick secondsLeft session } }"
        ticks, code, reason = await graphql_ws(base, token, query)
    # The middleware closes the socket at exp (spec 5); the resolver has no expiry logic.
    assert (code, reason) == (4403, '{"message":"4403: Forbidden: JWT expired"}')
    assert time.time() >= exp
    assert [tick["data"]["session"]["tick"] for tick in ticks] == list(range(1, len(ticks) + 1))
    first = ticks[0]["data"]["session"]
    assert first["session"] == {"x-hasura-user-id": "user-1", "x-hasura-role": "user"}
    assert 0 < first["secondsLeft"] <= 2


RECIPES = [
    "starlette_app",
    "fastapi_app",
    "quart_app",
    "raw_asgi",
    "strawberry_subscriptions",
]


@pytest.mark.parametrize("recipe", RECIPES)
def test_a_bad_secret_stops_the_recipe_at_startup(recipe: str) -> None:
    # uvicorn's default `--lifespan auto` swallows an error raised while Starlette builds its
    # middleware lazily; every factory builds `Settings` first, so the server never starts.
    environ = {
        **os.environ,
        # the README's recipe line as a new user might fill it: a key that is too short
        "HASURA_GRAPHQL_JWT_SECRET": '{"type":"HS256","key":"sixteen-chars!!!"}',
    }
    environ.pop("HASURA_GRAPHQL_JWT_SECRETS", None)
    command = [sys.executable, "-m", "uvicorn", "--factory", f"examples.{recipe}:create_app"]
    command += ["--host", "127.0.0.1", "--port", "0"]
    done = subprocess.run(
        command, env=environ, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    assert done.returncode != 0
    assert "Application startup complete" not in done.stderr
    assert "Invalid JWK: Key size too small; should be atleast 32 characters" in done.stderr
