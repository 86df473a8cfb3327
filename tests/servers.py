"""Run an ASGI app under a real uvicorn server on 127.0.0.1 for the duration of a test."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import uvicorn


@asynccontextmanager
async def serve(app: Any, **options: Any) -> AsyncIterator[str]:
    """Serve ``app`` on an ephemeral loopback port; yields ``http://127.0.0.1:<port>``.

    ``options`` go to `uvicorn.Config` (e.g. ``lifespan="on"``).
    """
    options.setdefault("lifespan", "off")
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **options)
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                if server.should_exit:
                    raise RuntimeError("uvicorn did not start")
                await anyio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


def loopback_socket() -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1 and a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def uvicorn_server(app: Callable[..., Any], *, lifespan: Any = "off", **config: Any) -> Any:
    return uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan=lifespan,
            log_config=None,
            log_level="warning",
            interface="asgi3",
            **config,
        )
    )


@asynccontextmanager
async def loopback_server(
    app: Callable[..., Any], *, lifespan: Any = "off", **config: Any
) -> AsyncIterator[tuple[str, uvicorn.Server]]:
    """A uvicorn server on 127.0.0.1 in the caller's task group: (base URL, server)."""
    sock = loopback_socket()
    port = sock.getsockname()[1]
    server = uvicorn_server(app, lifespan=lifespan, **config)
    try:
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(server.serve, [sock])
            with anyio.fail_after(5):
                while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for it
                    await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{port}", server
            finally:
                server.should_exit = True
    finally:
        sock.close()


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
