"""``asgi-hasura-jwt serve``: the auth webhook (`asgi_hasura_jwt.webhook`) under uvicorn.

The configuration comes from the environment, as Hasura's does (``HASURA_GRAPHQL_JWT_SECRET``
or ``HASURA_GRAPHQL_JWT_SECRETS``, ``HASURA_GRAPHQL_ADMIN_SECRET``,
``HASURA_GRAPHQL_UNAUTHORIZED_ROLE``), plus the options below. One JSON line on stdout says the
server is listening; SIGTERM and SIGINT shut it down gracefully, with exit status 0. uvicorn is
the ``serve`` extra, imported here only.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
from collections.abc import Mapping
from types import FrameType
from typing import Any

from .. import __version__
from .._errors import ConfigError
from .common import EXIT_OK, Subcommands, UsageError, add_azp_arguments

_LEVELS = ("debug", "info", "warning", "error")


def register(commands: Subcommands) -> None:
    """Add the ``serve`` subcommand."""
    serve = commands.add_parser(
        "serve",
        help="run the Hasura auth webhook (HASURA_GRAPHQL_AUTH_HOOK) under uvicorn",
        description="Answer Hasura's auth webhook on /auth (GET and POST modes), with /healthz,"
        " /readyz and /metrics. The JWT configs come from HASURA_GRAPHQL_JWT_SECRETS or"
        " HASURA_GRAPHQL_JWT_SECRET; HASURA_GRAPHQL_ADMIN_SECRET and"
        " HASURA_GRAPHQL_UNAUTHORIZED_ROLE are honoured as by the middleware.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    add_azp_arguments(serve)
    serve.add_argument(
        "--fallback-webhook",
        metavar="URL",
        help="forward requests no config takes up to this webhook (same mode)",
    )
    serve.add_argument("--fallback-timeout", type=float, default=5.0, metavar="SECONDS", help="(5)")
    serve.add_argument("--log-level", choices=_LEVELS, default="info")
    serve.set_defaults(handler=run)


def _listen(host: str, port: int) -> socket.socket:
    # Bound here, not by uvicorn: a taken port is a one-line usage error, and the startup line
    # can name the port actually bound (``--port 0``).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return listener


def _emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # uvicorn shuts down on SIGTERM, then raises it again under the handler it found: this one,
    # so that a graceful stop is exit status 0, not death by signal.
    raise SystemExit(EXIT_OK)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    try:
        import uvicorn
    except ImportError:
        raise UsageError("serve needs uvicorn: pip install 'asgi-hasura-jwt[serve]'") from None
    from ..webhook import AUTH_PATH, create_app

    try:
        app = create_app(
            authorized_parties=args.authorized_party,
            require_azp=args.require_azp,
            fallback_webhook=args.fallback_webhook,
            fallback_timeout=args.fallback_timeout,
            environ=environ,
        )
    except ConfigError as exc:
        raise UsageError(f"config error: {exc}") from exc
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    listener = _listen(args.host, args.port)
    host, port = listener.getsockname()[:2]
    ready = {
        "url": f"http://{f'[{host}]' if ':' in host else host}:{port}{AUTH_PATH}",
        "pid": os.getpid(),
        "version": __version__,
        "configs": len(app.settings.configs),
        "jwks_urls": [status.url for status in app.jwks_status()],
        "fallback_webhook": args.fallback_webhook is not None,
    }

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.should_exit:
                _emit("listening", **ready)

    config = uvicorn.Config(
        app, lifespan="on", log_level=args.log_level, access_log=False, log_config=None
    )
    signal.signal(signal.SIGTERM, _exit_cleanly)
    try:
        Server(config).run(sockets=[listener])
    finally:
        listener.close()
        _emit("stopped", pid=os.getpid())
    return EXIT_OK
