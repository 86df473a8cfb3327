"""A real Debian ``redis-server`` on 127.0.0.1 for the revocation tests: a free port, a temporary
directory, no persistence; stopped, killed or paused and started again on the same port.

`make test` installs the package (the Makefile's ``system-deps``); without it the tests skip,
except under CI, where they fail.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from .servers import free_port


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        message = "redis-server is not installed (make system-deps installs Debian's)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(message)
        pytest.skip(message)
    return found


class RedisServer:
    """One redis-server process at a time, always on the same port."""

    def __init__(self, directory: Path) -> None:
        self.binary = redis_binary()
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING within 10 s")

    def stop(self, *, kill: bool = False) -> None:
        """An outage: SIGTERM (a clean shutdown) or SIGKILL; the data is gone either way."""
        process, self.process = self.process, None
        assert process is not None
        if kill:
            process.kill()
        else:
            process.terminate()
        process.wait(10)

    def pause(self) -> None:
        """A silent outage: the process stops answering but its connections stay open."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.resume()
            server.stop(kill=True)
