"""Run an ASGI app under a real server on 127.0.0.1 for the duration of a test: uvicorn in
this process (`serve`), or any server as a child process (`spawn`).
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
import uvicorn


def loopback_socket() -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1 and a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def uvicorn_server(app: Callable[..., Any], *, lifespan: Any = "off", **config: Any) -> Any:
    # h11, not "auto": the dev extra brings httptools (for tests/test_servers.py), which refuses
    # control bytes in header values before the app could answer them as Hasura does.
    config = {"http": "h11", "log_config": None, "log_level": "warning", **config}
    return uvicorn.Server(uvicorn.Config(app, lifespan=lifespan, interface="asgi3", **config))


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
            with anyio.fail_after(10):
                while not server.started:
                    if server.should_exit:
                        raise RuntimeError("uvicorn did not start")
                    await anyio.sleep(0.01)
            try:
                yield f"http://127.0.0.1:{port}", server
            finally:
                server.should_exit = True
    finally:
        sock.close()


@asynccontextmanager
async def serve(app: Any, **options: Any) -> AsyncIterator[str]:
    """`loopback_server` when only the URL matters: yields ``http://127.0.0.1:<port>``.

    ``options`` go to `uvicorn.Config` (e.g. ``lifespan="on"``).
    """
    async with loopback_server(app, **options) as (base, _):
        yield base


ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A port free on 127.0.0.1 right now, for a server process that cannot bind port 0 and
    report it back.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def spawn(
    command: Sequence[str],
    ready_url: str,
    *,
    env: Mapping[str, str],
    verify: ssl.SSLContext | bool = True,
    timeout: float = 20,
) -> Iterator[None]:
    """Run a server process from the repository root until the block ends; ready once
    ``ready_url`` answers 200 (polled, bounded by ``timeout``). Always terminated, then killed
    with its process group (granian's workers) if it lingers.
    """
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HASURA_GRAPHQL_")}
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_ready(process, ready_url, verify, timeout, log)
            yield
        finally:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_ready(
    process: subprocess.Popen[bytes],
    url: str,
    verify: ssl.SSLContext | bool,
    timeout: float,
    log: IO[bytes],
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(url, verify=verify, timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    log.seek(0)
    output = log.read().decode(errors="replace")[-3000:]
    raise RuntimeError(f"{process.args!r} did not serve {url}:\n{output}")
