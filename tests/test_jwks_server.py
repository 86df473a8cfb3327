"""`RemoteKeySet` against a real JWKS server (uvicorn on 127.0.0.1), in real time."""

from __future__ import annotations

import asyncio
import gzip
import json
import random
import time
from typing import Any

import anyio
import httpx
import pytest
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry

from asgi_hasura_jwt import HasuraJWTMiddleware
from asgi_hasura_jwt.testing import b64url, gzip_bomb

from .jwks_helpers import (
    Endpoint,
    loop_gaps,
    peak_memory,
    remote_key_set,
    rs256_token,
    rsa_jwk,
    rsa_private,
    verifies,
)
from .servers import loopback_server

pytestmark = [pytest.mark.network, pytest.mark.asyncio]

TOKEN = rs256_token(0)  # signed by the key published as "k0"


def router(endpoints: dict[str, Endpoint]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await endpoints[scope["path"]].asgi(scope, receive, send)

    return app


async def test_keys_are_ready_right_after_startup() -> None:
    endpoint = Endpoint()
    async with loopback_server(endpoint.asgi) as (base, _):
        keys = remote_key_set(f"{base}/jwks")
        async with anyio.create_task_group() as task_group:
            await task_group.start(keys.run)
            assert keys.status().ready
            assert verifies(await keys.keys_for("k0"), TOKEN)
            assert endpoint.calls == 1
            task_group.cancel_scope.cancel()
        await keys.aclose()


async def test_refresh_counts_follow_the_expiry_headers() -> None:
    variants = {
        "/max-age-1": "max-age=1",
        "/no-cache": "no-cache",
        "/must-revalidate": "must-revalidate",
        "/no-store-max-age-30": "no-store, max-age=30",
        "/max-age-30": "max-age=30",
    }
    endpoints = {
        path: Endpoint(headers={"Cache-Control": value}) for path, value in variants.items()
    }
    async with loopback_server(router(endpoints)) as (base, _):
        key_sets = [remote_key_set(base + path) for path in variants]
        async with anyio.create_task_group() as task_group:
            for keys in key_sets:
                await task_group.start(keys.run)
            # Fetches at about 0, 1 and 2 s: once per min_refresh_interval (1 s), no more.
            await anyio.sleep(2.5)
            task_group.cancel_scope.cancel()
        for keys in key_sets:
            await keys.aclose()
    counts = {variants[path]: endpoint.calls for path, endpoint in endpoints.items()}
    assert counts == {
        "max-age=1": 3,
        "no-cache": 3,
        "must-revalidate": 3,
        "no-store, max-age=30": 3,
        "max-age=30": 1,
    }


async def test_rotation_is_picked_up_without_waiting_for_the_schedule() -> None:
    endpoint = Endpoint([rsa_jwk("k0")], headers={"Cache-Control": "max-age=300"})
    async with loopback_server(endpoint.asgi) as (base, _):
        keys = remote_key_set(f"{base}/jwks", min_refresh_interval=0.2)
        async with anyio.create_task_group() as task_group:
            await task_group.start(keys.run)
            endpoint.document = {"keys": [rsa_jwk("k1", index=1), rsa_jwk("k0")]}
            await anyio.sleep(0.25)
            chosen = await keys.keys_for("k1")
            assert [key.kid for key in chosen] == ["k1"]
            assert verifies(chosen, rs256_token(1))
            assert endpoint.calls == 2
            assert keys.version == 2
            task_group.cancel_scope.cancel()
        await keys.aclose()


async def test_a_storm_of_random_kids_causes_at_most_one_refetch() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=300"})
    async with loopback_server(endpoint.asgi) as (base, _):
        keys = remote_key_set(f"{base}/jwks", min_refresh_interval=0.2)
        async with anyio.create_task_group() as task_group:
            await task_group.start(keys.run)
            await anyio.sleep(0.25)  # past the floor, so the storm may refetch once
            async with anyio.create_task_group() as storm:
                for _ in range(300):
                    storm.start_soon(keys.keys_for, f"kid-{random.getrandbits(64):x}")
            for _ in range(30):  # and a trickle afterwards, within the cooldown
                await keys.keys_for(f"kid-{random.getrandbits(64):x}")
                await anyio.sleep(0.01)
            task_group.cancel_scope.cancel()
        await keys.aclose()
    assert endpoint.calls == 2  # the startup fetch and one shared unknown-kid refetch


async def test_a_gzip_bomb_from_a_real_server_is_refused_and_the_keys_kept() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=300"})
    async with loopback_server(endpoint.asgi) as (base, _):
        keys = remote_key_set(f"{base}/jwks", min_refresh_interval=0.05)
        assert verifies(await keys.keys_for("k0"), TOKEN)
        # A server that compresses although asked for identity, 260 KB for 256 MiB.
        endpoint.body = gzip_bomb()
        endpoint.headers = {"Content-Encoding": "gzip"}
        await anyio.sleep(0.05)
        async with loop_gaps() as gaps:
            with peak_memory() as peak:
                chosen = await keys.keys_for("rotated")  # an unknown kid: one refetch
        status = keys.status()
        await keys.aclose()
    assert endpoint.calls == 2
    assert status.last_error == "gzip response body inflates past 1048576 bytes"
    assert verifies(chosen, TOKEN)  # the last good keys are kept
    assert status.ready
    # Generous bounds for a loaded machine; benchmarks/bench_jwks.py measures the real figure.
    assert max(gaps) < 0.05
    assert peak[0] < 8 << 20


async def test_a_gzipped_jwks_from_a_real_server_is_used() -> None:
    endpoint = Endpoint(headers={"Content-Encoding": "gzip"})
    endpoint.body = gzip.compress(endpoint.render())
    async with loopback_server(endpoint.asgi) as (base, _):
        keys = remote_key_set(f"{base}/jwks")
        assert verifies(await keys.keys_for("k0"), TOKEN)
        await keys.aclose()


@pytest.mark.parametrize("outage", ["500", "invalid JSON", "hang"])
async def test_known_keys_keep_working_while_the_endpoint_is_down(outage: str) -> None:
    endpoint = Endpoint(headers={"Cache-Control": "no-cache"})
    async with loopback_server(endpoint.asgi) as (base, _):
        keys = remote_key_set(f"{base}/jwks", fetch_timeout=0.3, min_refresh_interval=0.3)
        async with anyio.create_task_group() as task_group:
            await task_group.start(keys.run)
            if outage == "500":
                endpoint.status = 500
            elif outage == "invalid JSON":
                endpoint.body = b'{"keys": [oops'
            else:
                endpoint.gate = anyio.Event()
            rejections = lookups = 0
            slowest = 0.0
            deadline = time.monotonic() + 0.8  # the scheduled refresh at ~0.3 s fails
            while time.monotonic() < deadline:
                started = time.monotonic()
                chosen = await keys.keys_for("k0")
                slowest = max(slowest, time.monotonic() - started)
                lookups += 1
                rejections += not verifies(chosen, TOKEN)
                await anyio.sleep(0.01)
            # Unknown kids during the outage: one refetch per cooldown at most.
            for _ in range(20):
                await keys.keys_for("unknown")
            status = keys.status()
            endpoint.release()
            task_group.cancel_scope.cancel()
        await keys.aclose()
    assert lookups > 25
    assert rejections == 0
    assert slowest < 0.1  # requests never wait for the refresher
    assert status.ready
    assert status.last_error is not None
    assert status.consecutive_failures in (1, 2)
    # Startup, the failed refresh at ~0.3 s, one unknown-kid refetch; the next retry is in 60 s.
    assert endpoint.calls <= 3


async def test_without_lifespan_the_first_requests_share_one_fetch() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=1"})
    async with loopback_server(endpoint.asgi) as (base, _):
        keys = remote_key_set(f"{base}/jwks", fetch_timeout=0.3)
        results: list[bool] = []

        async def request() -> None:
            results.append(verifies(await keys.keys_for("k0"), TOKEN))

        async with anyio.create_task_group() as task_group:
            for _ in range(50):
                task_group.start_soon(request)
        assert results == [True] * 50
        assert endpoint.calls == 1
        # Stale keys and a hanging endpoint: one request waits fetch_timeout, then uses them.
        endpoint.gate = anyio.Event()
        await anyio.sleep(1.05)
        started = time.monotonic()
        assert verifies(await keys.keys_for("k0"), TOKEN)
        assert 0.25 < time.monotonic() - started < 1
        started = time.monotonic()
        for _ in range(20):
            assert verifies(await keys.keys_for("k0"), TOKEN)
        assert time.monotonic() - started < 0.1  # the retry is 60 s away
        assert endpoint.calls == 2
        endpoint.release()
        await keys.aclose()


async def test_shutdown_cancels_the_refresher_and_leaks_nothing() -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=1"})
    async with loopback_server(endpoint.asgi) as (base, server):
        keys = remote_key_set(f"{base}/jwks")
        tasks_before = len(asyncio.all_tasks())
        async with anyio.create_task_group() as task_group:
            await task_group.start(keys.run)
            assert len(asyncio.all_tasks()) == tasks_before + 1
            task_group.cancel_scope.cancel()
        await keys.aclose()
        calls = endpoint.calls
        assert keys._client is None  # the client it created is closed
        await anyio.sleep(1.3)
        assert [key.kid for key in await keys.keys_for("unknown")] == ["k0"]
        assert endpoint.calls == calls  # no fetch after shutdown, whatever asks
        assert len(asyncio.all_tasks()) == tasks_before
        assert not server.server_state.connections  # no connection left open


def bearer(kid: Any, index: int = 0) -> dict[str, str]:
    """An Authorization header with an RS256 token signed by RSA key ``index``."""
    private = rsa_private(index)
    claims = {
        "sub": "user-1",
        "exp": int(time.time()) + 300,
        "https://hasura.io/jwt/claims": {
            "x-hasura-allowed-roles": ["user"],
            "x-hasura-default-role": "user",
            "x-hasura-user-id": "1",
        },
    }
    header = b64url(json.dumps({"alg": "RS256", "kid": kid}).encode())
    signing_input = f"{header}.{b64url(json.dumps(claims).encode())}".encode()
    signature = JWSRegistry.algorithms["RS256"].sign(signing_input, RSAKey(private, private))
    return {"Authorization": f"Bearer {signing_input.decode()}.{b64url(bytes(signature))}"}


async def session_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError("this app does not support lifespan")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    user_id = scope["hasura_session"]["x-hasura-user-id"]
    await send({"type": "http.response.body", "body": user_id.encode()})


@pytest.mark.parametrize("lifespan", ["on", "off"])
async def test_middleware_end_to_end_with_an_outage(lifespan: str) -> None:
    endpoint = Endpoint(headers={"Cache-Control": "no-cache"})
    async with loopback_server(endpoint.asgi) as (jwks_base, _):
        middleware = HasuraJWTMiddleware(
            session_app,
            jwt_secret={"jwk_url": f"{jwks_base}/jwks"},
            environ={},
            # Long enough that the 20 first requests finish before a refresh is due, even on a
            # loaded machine.
            jwks_min_refresh_interval=1.0,
        )
        async with (
            loopback_server(middleware, lifespan=lifespan) as (base, _),
            httpx.AsyncClient(base_url=base) as client,
        ):
            # With lifespan the keys came before the first request; without, the first
            # requests share one fetch.
            assert endpoint.calls == (1 if lifespan == "on" else 0)
            statuses: list[int] = []

            async def request(kid: str = "k0") -> None:
                statuses.append((await client.get("/", headers=bearer(kid))).status_code)

            async with anyio.create_task_group() as task_group:
                for _ in range(20):
                    task_group.start_soon(request)
            assert endpoint.calls == 1
            endpoint.status = 500
            deadline = time.monotonic() + 1.5  # past the refresh due at ~1 s
            while time.monotonic() < deadline:
                await request()
                await anyio.sleep(0.02)
            await request("rotated-away")  # an unknown kid: one refetch, which fails
            (status,) = middleware.jwks_status()
        assert set(statuses) == {200}  # zero false rejections
        assert status.ready
        assert status.last_error == "HTTP 500"
        assert status.refresher_running == (lifespan == "on")
        assert endpoint.calls <= 3
        if lifespan == "on":
            (after,) = middleware.jwks_status()
            assert not after.refresher_running


async def test_a_kid_that_is_not_a_string_is_refused_before_any_fetch() -> None:
    endpoint = Endpoint()
    async with loopback_server(endpoint.asgi) as (jwks_base, _):
        middleware = HasuraJWTMiddleware(
            session_app, jwt_secret={"jwk_url": f"{jwks_base}/jwks"}, environ={}
        )
        async with (
            loopback_server(middleware, lifespan="off") as (base, _),
            httpx.AsyncClient(base_url=base) as client,
        ):
            for kid in [123, True, False, None, [], {}]:
                response = await client.get("/", headers=bearer(kid))
                assert response.status_code == 400
                (error,) = response.json()["errors"]
                assert error["extensions"]["code"] == "invalid-jwt"
                assert error["message"] == (
                    "Could not verify JWT: JWSError (CompactDecodeError Invalid header: kid "
                    "must be a string)"
                )
            # A malformed header neither fetches the keys nor counts as an unknown kid.
            assert endpoint.calls == 0
            assert (await client.get("/", headers=bearer("k0"))).text == "1"
            assert endpoint.calls == 1
