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
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO, Any

import anyio
import httpx
import uvicorn


@asynccontextmanager
async def serve(app: Any, **options: Any) -> AsyncIterator[str]:
    """Serve ``app`` on an ephemeral loopback port; yields ``http://127.0.0.1:<port>``.

    ``options`` go to `uvicorn.Config` (e.g. ``lifespan="on"``).
    """
    options.setdefault("lifespan", "off")
    # h11, not "auto": the dev extra brings httptools (for tests/test_servers.py), which refuses
    # control bytes in header values before the app could answer them as Hasura does.
    options.setdefault("http", "h11")
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
