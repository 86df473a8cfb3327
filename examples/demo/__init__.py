"""The end-to-end demo: a Clerk-style issuer and a GraphQL app behind the middleware, on loopback.

Two servers, because the middleware fetches the JWKS during its lifespan startup, before its own
server accepts connections: the issuer must already be serving. ``python -m examples.demo`` from
the repository root (``make demo``, ``asgi-hasura-jwt demo``) serves both until Ctrl-C;
``--check`` (``make demo-check``) runs `check.Check` instead.
"""

from __future__ import annotations

import errno
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.abc
import uvicorn

from .app import GRAPHQL_PATH, create_app, jwt_config
from .check import Check
from .issuer import JWKS_PATH, M2M_PATH, SESSION_PATH, TOKEN_PATH, DevIssuer

STARTUP_TIMEOUT = 40.0  # the middleware's own JWKS startup is bounded by 30 s (spec 4.3)


class DemoError(Exception):
    """A one-line reason the demo could not start."""


@dataclass(frozen=True)
class Demo:
    app_url: str
    issuer: DevIssuer
    stopped: anyio.Event  # set when either server stops (Ctrl-C: uvicorn handles the signal)

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer.url}{JWKS_PATH}"


def _bind(host: str, port: int) -> socket.socket:
    # Bound before either server starts, so that each knows the other's URL even on port 0.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise DemoError(f"{host}:{port} is in use: pass --port (and --issuer-port)") from exc
        raise DemoError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    return sock


def _url(host: str, sock: socket.socket) -> str:
    name = f"[{host}]" if ":" in host else host
    return f"http://{name}:{sock.getsockname()[1]}"


async def _start(
    group: anyio.abc.TaskGroup, app: Any, sock: socket.socket, what: str, stopped: anyio.Event
) -> Any:
    config = uvicorn.Config(app, lifespan="on" if what == "app" else "off", log_level="warning")
    server = uvicorn.Server(config)

    async def serve() -> None:
        try:
            await server.serve([sock])
        finally:
            stopped.set()

    group.start_soon(serve)
    with anyio.fail_after(STARTUP_TIMEOUT):
        while not server.started:
            if server.should_exit:
                raise DemoError(f"the {what} server did not start (see the log above)")
            await anyio.sleep(0.02)
    return server


@asynccontextmanager
async def serve_demo(
    host: str = "127.0.0.1", port: int = 0, issuer_port: int | None = None, lifetime: int = 60
) -> AsyncIterator[Demo]:
    """Run the issuer, then the app (whose lifespan fetches the issuer's JWKS)."""
    if issuer_port is None:
        issuer_port = port + 1 if port else 0
    app_sock = _bind(host, port)
    try:
        issuer_sock = _bind(host, issuer_port)
    except DemoError:
        app_sock.close()
        raise
    app_url = _url(host, app_sock)
    origins = [app_url]
    if host == "127.0.0.1":
        origins.append(app_url.replace("127.0.0.1", "localhost"))
    issuer = DevIssuer(_url(host, issuer_sock), origins, lifetime)
    app = create_app(
        issuer=issuer.url,
        origins=origins,
        token_url=f"{issuer.url}{TOKEN_PATH}",
    )
    stopped = anyio.Event()
    try:
        async with anyio.create_task_group() as group:
            servers = [await _start(group, issuer.app, issuer_sock, "issuer", stopped)]
            try:
                servers.append(await _start(group, app, app_sock, "app", stopped))
                yield Demo(app_url, issuer, stopped)
            finally:
                for server in servers:
                    server.should_exit = True
    finally:
        # uvicorn closes the sockets it served on, but not one whose startup failed.
        app_sock.close()
        issuer_sock.close()


def _instructions(demo: Demo) -> str:
    issuer = demo.issuer
    config = json.dumps(jwt_config(issuer.url))
    graphql = f"{demo.app_url}{GRAPHQL_PATH}"
    me = """-H 'Content-Type: application/json' -d '{"query":"{ me }"}'"""
    return f"""\
asgi_hasura_jwt demo
  issuer  {issuer.url}  Clerk-compatible development issuer (RS256, kid {issuer.kid})
          JWKS {demo.jwks_url}
  app     {graphql}  Strawberry behind HasuraJWTMiddleware, configured with
          HASURA_GRAPHQL_JWT_SECRETS='{config}'

Open {demo.app_url}/ in a browser and press "Make query", or from a shell:

  TOKEN=$(curl -s -X POST '{issuer.url}{TOKEN_PATH}?format=jwt')
  curl -s {graphql} -H "Authorization: Bearer $TOKEN" \\
       -H 'Content-Type: application/json' -d '{{"query":"query {{ __typename }}"}}'
  # {{"data":{{"__typename":"query_root"}}}}
  .venv/bin/asgi-hasura-jwt verify "$TOKEN" --config '{config}'

Every Clerk token kind (session tokens go in the __session cookie, the others as Bearer):

  SESSION=$(curl -s -X POST '{issuer.url}{SESSION_PATH}?format=jwt')   # also ?org=1, ?pending=1
  curl -s {graphql} --cookie "__session=$SESSION" {me}
  M2M=$(curl -s -X POST '{issuer.url}{M2M_PATH}?format=jwt')
  curl -s {graphql} -H "Authorization: Bearer $M2M" {me}

Tokens live {issuer.lifetime} s, as Clerk's do. Ctrl-C stops the demo."""


async def run(host: str, port: int, issuer_port: int | None, lifetime: int, check: bool) -> int:
    async with serve_demo(host, port, issuer_port, lifetime) as demo:
        if check:
            passed = await Check(demo.app_url, demo.issuer.url, lifetime, print).run()
            return 0 if passed else 1
        print(_instructions(demo), flush=True)
        await demo.stopped.wait()
    return 0
