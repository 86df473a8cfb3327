"""``asgi-hasura-jwt serve`` as a real process: the startup line, /healthz and /auth, a
graceful stop on SIGTERM with exit status 0, and its usage errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from .servers import ROOT, free_port, loopback_socket
from .webhook_helpers import CONFIG, bearer, token

COMMAND = [sys.executable, "-c", "from asgi_hasura_jwt._cli import main; raise SystemExit(main())"]


def environment(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("HASURA_GRAPHQL_")}
    return {**base, "HASURA_GRAPHQL_JWT_SECRET": json.dumps(CONFIG), **extra}


@contextmanager
def started(*arguments: str, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [*COMMAND, "serve", *arguments],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


@pytest.mark.network
def test_serve_answers_and_stops_cleanly_on_sigterm() -> None:
    port = free_port()
    with started("--port", str(port), env=environment()) as process:
        assert process.stdout is not None
        line = json.loads(process.stdout.readline())  # printed once it listens
        assert line == {
            "event": "listening",
            "url": f"http://127.0.0.1:{port}/auth",
            "pid": process.pid,
            "version": "0.1.0",
            "configs": 1,
            "jwks_urls": [],
            "fallback_webhook": False,
        }
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            # The process has the real clock: a token of now, not of the suite's NOW.
            now = int(time.time())
            answer = client.get("/auth", headers=bearer(token(iat=now - 5, exp=now + 90)))
            assert answer.json()["X-Hasura-Role"] == "user", answer.text
            assert client.get("/auth").status_code == 401
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
        assert process.returncode == 0, err
        assert json.loads(out) == {"event": "stopped", "pid": process.pid}
        assert "Application shutdown complete" in err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HASURA_GRAPHQL_JWT_SECRET": "{"}, "config error: "),
        ({"HASURA_GRAPHQL_JWT_SECRET": ""}, "config error: "),
    ],
)
def test_serve_refuses_a_bad_config(env: dict[str, str], message: str) -> None:
    done = subprocess.run(
        [*COMMAND, "serve", "--port", "0"],
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"asgi-hasura-jwt serve: {message}")
    assert done.stdout == ""


def test_serve_says_when_the_port_is_taken() -> None:
    with loopback_socket() as taken:
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*COMMAND, "serve", "--port", str(port)],
            env=environment(),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert (
        done.stderr
        == f"asgi-hasura-jwt serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
