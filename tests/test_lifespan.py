"""`handle_lifespan`: the refreshers live in the lifespan; the inner app keeps its protocol."""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, MutableMapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from asgi_hasura_jwt._jwks import RemoteKeySet
from asgi_hasura_jwt._jwks.lifespan import handle_lifespan

from .jwks_helpers import Endpoint, remote_key_set
from .servers import free_port, loopback_server, loopback_socket, uvicorn_server

URL = "https://issuer.example/jwks"
Message = MutableMapping[str, Any]


class Server:
    """The server's side of one lifespan: it sends startup/shutdown and reads the replies."""

    def __init__(self) -> None:
        self._to_app, self.app_inbox = anyio.create_memory_object_stream[Message](math.inf)
        self.outbox, self._replies = anyio.create_memory_object_stream[Message](math.inf)
        self.finished = anyio.Event()
        self.observed: list[tuple[str, Any]] = []  # (reply type, what `observe` saw then)
        self.observe: Any = None

    async def send(self, message: Message) -> None:
        self.observed.append((message["type"], self.observe() if self.observe else None))
        await self.outbox.send(message)

    async def _ask(self, message_type: str) -> Message:
        await self._to_app.send({"type": message_type})
        with anyio.fail_after(5):
            return await self._replies.receive()

    async def startup(self) -> Message:
        return await self._ask("lifespan.startup")

    async def shutdown(self) -> Message:
        return await self._ask("lifespan.shutdown")

    def close(self) -> None:
        for stream in (self._to_app, self.app_inbox, self.outbox, self._replies):
            stream.close()


@asynccontextmanager
async def lifespan(app: Any, key_sets: Sequence[RemoteKeySet]) -> AsyncIterator[Server]:
    server = Server()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

    async def run() -> None:
        await handle_lifespan(app, scope, server.app_inbox.receive, server.send, key_sets)
        server.finished.set()

    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(run)
            yield server
            with anyio.fail_after(5):
                await server.finished.wait()
    finally:
        server.close()


class LifespanApp:
    """An inner app that speaks lifespan; ``fail`` picks a phase to fail or crash in."""

    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail
        self.events: list[str] = []
        self.scope: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scope = scope
        for phase in ("startup", "shutdown"):
            message = await receive()
            self.events.append(message["type"])
            if self.fail == f"{phase}.failed":
                await send({"type": f"lifespan.{phase}.failed", "message": f"{phase} broke"})
                return
            if self.fail == f"{phase}.crash":
                raise RuntimeError(f"{phase} crashed")
            await send({"type": f"lifespan.{phase}.complete"})
            if self.fail == "crash.after.startup" and phase == "startup":
                raise RuntimeError("crashed while running")


async def returns_on_lifespan(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return


async def raises_on_lifespan(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError(f"unsupported scope {scope['type']}")


async def takes_startup_then_returns(scope: Any, receive: Any, send: Any) -> None:
    await receive()


async def chatty(scope: Any, receive: Any, send: Any) -> None:
    """Sends a message the protocol does not know before each reply."""
    for phase in ("startup", "shutdown"):
        await receive()
        await send({"type": "lifespan.chatter"})
        await send({"type": f"lifespan.{phase}.complete"})


def remote_keys(endpoint: Endpoint, **options: Any) -> RemoteKeySet:
    options.setdefault("http_client", endpoint.client())
    return remote_key_set(URL, **options)


def running(keys: RemoteKeySet) -> Any:
    return lambda: (keys.status().refresher_running, keys.status().ready)


async def test_without_key_sets_it_is_a_pure_pass_through() -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.extend([scope, receive, send])

    scope = {"type": "lifespan"}

    async def receive() -> Message:
        raise AssertionError

    async def send(message: Message) -> None:
        raise AssertionError

    await handle_lifespan(app, scope, receive, send, [])
    assert seen == [scope, receive, send]


async def test_app_with_lifespan_startup_waits_for_keys_and_shutdown_stops_the_refresher() -> None:
    endpoint = Endpoint()
    keys = remote_keys(endpoint)
    app = LifespanApp()
    async with lifespan(app, [keys]) as server:
        server.observe = running(keys)
        assert await server.startup() == {"type": "lifespan.startup.complete"}
        assert endpoint.calls == 1
        assert app.events == ["lifespan.startup"]
        assert await server.shutdown() == {"type": "lifespan.shutdown.complete"}
    assert app.events == ["lifespan.startup", "lifespan.shutdown"]
    # Keys were there before startup completed; the refresher was gone before shutdown did.
    assert server.observed == [
        ("lifespan.startup.complete", (True, True)),
        ("lifespan.shutdown.complete", (False, True)),
    ]
    assert app.scope["state"] == {}


@pytest.mark.parametrize(
    "app", [returns_on_lifespan, raises_on_lifespan, takes_startup_then_returns]
)
async def test_app_without_lifespan_support_gets_the_protocol_completed(app: Any) -> None:
    endpoint = Endpoint(headers={"Cache-Control": "max-age=0"})
    keys = remote_keys(endpoint, min_refresh_interval=0.05)
    async with lifespan(app, [keys]) as server:
        server.observe = running(keys)
        assert await server.startup() == {"type": "lifespan.startup.complete"}
        await anyio.sleep(0.12)  # the refresher keeps running on its own
        assert endpoint.calls >= 2
        assert await server.shutdown() == {"type": "lifespan.shutdown.complete"}
    assert server.observed[-1] == ("lifespan.shutdown.complete", (False, True))


async def test_unknown_messages_are_ignored_both_ways() -> None:
    keys = remote_keys(Endpoint())
    async with lifespan(chatty, [keys]) as server:
        assert await server.startup() == {"type": "lifespan.startup.complete"}
        await server._to_app.send({"type": "lifespan.something.else"})
        assert await server.shutdown() == {"type": "lifespan.shutdown.complete"}
    assert [kind for kind, _ in server.observed] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
    ]


async def test_refresher_startup_failure_fails_startup_and_never_starts_the_app() -> None:
    endpoint = Endpoint()
    endpoint.status = 503

    async def no_backoff(delay: float) -> None:
        await anyio.lowlevel.checkpoint()

    keys = remote_keys(endpoint, sleep=no_backoff)
    app = LifespanApp()
    async with lifespan(app, [keys]) as server:
        reply = await server.startup()
    assert reply == {
        "type": "lifespan.startup.failed",
        "message": f"could not fetch the JWKS from {URL} (5 attempts): HTTP 503",
    }
    assert app.events == []
    assert not keys.status().refresher_running


async def test_every_key_set_is_ready_before_startup_completes() -> None:
    first, second = Endpoint(), Endpoint()
    key_sets = [remote_keys(first), remote_key_set(URL + "2", http_client=second.client())]
    async with lifespan(LifespanApp(), key_sets) as server:
        assert (await server.startup())["type"] == "lifespan.startup.complete"
        assert all(keys.status().ready for keys in key_sets)
        assert (await server.shutdown())["type"] == "lifespan.shutdown.complete"
    assert not any(keys.status().refresher_running for keys in key_sets)


@pytest.mark.parametrize(
    ("fail", "startup", "shutdown"),
    [
        ("startup.failed", {"type": "lifespan.startup.failed", "message": "startup broke"}, None),
        (
            "startup.crash",
            {"type": "lifespan.startup.failed", "message": "RuntimeError: startup crashed"},
            None,
        ),
        (
            "shutdown.failed",
            {"type": "lifespan.startup.complete"},
            {"type": "lifespan.shutdown.failed", "message": "shutdown broke"},
        ),
        (
            "shutdown.crash",
            {"type": "lifespan.startup.complete"},
            {"type": "lifespan.shutdown.failed", "message": "RuntimeError: shutdown crashed"},
        ),
        (
            "crash.after.startup",
            {"type": "lifespan.startup.complete"},
            {"type": "lifespan.shutdown.failed", "message": "RuntimeError: crashed while running"},
        ),
    ],
)
async def test_the_apps_own_failures_are_forwarded(
    fail: str, startup: Message, shutdown: Message | None
) -> None:
    keys = remote_keys(Endpoint())
    async with lifespan(LifespanApp(fail), [keys]) as server:
        assert await server.startup() == startup
        if shutdown is not None:
            assert await server.shutdown() == shutdown
    assert not keys.status().refresher_running


async def test_own_http_client_is_closed_at_shutdown() -> None:
    endpoint = Endpoint()
    keys = remote_key_set(URL)
    keys._client = endpoint.client()  # stands for the client it creates itself
    async with lifespan(LifespanApp(), [keys]) as server:
        await server.startup()
        client = keys._client
        await server.shutdown()
    assert client.is_closed
    assert keys._client is None


# --- under a real uvicorn server ----------------------------------------------------------------


def with_lifespan(inner: Any, key_sets: Sequence[RemoteKeySet]) -> Any:
    """The middleware's lifespan branch, in miniature; http requests report the key ids."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await handle_lifespan(inner, scope, receive, send, key_sets)
            return
        chosen = await key_sets[0].keys_for(None)
        body = ",".join(str(key.kid) for key in chosen).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.mark.network
async def test_uvicorn_lifespan_on_with_an_app_that_does_not_support_it() -> None:
    endpoint = Endpoint()
    async with loopback_server(endpoint.asgi) as (jwks_base, _):
        keys = remote_key_set(f"{jwks_base}/jwks")
        app = with_lifespan(raises_on_lifespan, [keys])
        async with loopback_server(app, lifespan="on") as (base, _):
            # uvicorn has completed startup: the keys are already there.
            assert endpoint.calls == 1
            assert keys.status().refresher_running
            async with httpx.AsyncClient() as client:
                response = await client.get(base)
            assert response.text == "k0"
            assert endpoint.calls == 1
        assert not keys.status().refresher_running
        assert keys._client is None


@pytest.mark.network
async def test_uvicorn_startup_fails_when_the_jwks_is_unreachable(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def no_backoff(delay: float) -> None:
        await anyio.lowlevel.checkpoint()

    url = f"http://127.0.0.1:{free_port()}/jwks"
    keys = remote_key_set(url, sleep=no_backoff, fetch_timeout=1)
    app = with_lifespan(LifespanApp(), [keys])
    sock = loopback_socket()
    server = uvicorn_server(app, lifespan="on")
    with caplog.at_level(logging.ERROR, logger="uvicorn.error"), pytest.raises(SystemExit):
        await server.serve([sock])
    sock.close()
    assert not server.started
    assert f"could not fetch the JWKS from {url} (5 attempts): ConnectError" in caplog.text
