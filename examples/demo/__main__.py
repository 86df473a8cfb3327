"""``python -m examples.demo [--check]`` from the repository root: serve the demo until Ctrl-C,
or run its self-check and exit 0 or 1 (2: it could not start)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import anyio

from asgi_hasura_jwt.testing import CLERK_LIFETIME

from . import DemoError, run

PROG = "python -m examples.demo"
DEFAULT_PORT = 8000
# The self-check waits for its subscription to be closed at expiry: short, but long enough for
# the steps before it on a slow machine.
CHECK_LIFETIME = 3


def _lifetime(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive number of seconds")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Serve a Clerk-compatible development issuer and a Strawberry GraphQL app"
        " behind HasuraJWTMiddleware on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, help=f"GraphQL app port (default {DEFAULT_PORT}; --check: any free)"
    )
    parser.add_argument("--issuer-port", type=int, help="issuer port (default: --port + 1)")
    parser.add_argument(
        "--lifetime",
        type=_lifetime,
        help=f"token lifetime in seconds (default {CLERK_LIFETIME}; --check: {CHECK_LIFETIME})",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="run mint, query, subscribe and expiry against the demo, then exit 0 or 1",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The check needs no fixed port, and must not collide with a running demo.
    port = args.port if args.port is not None else 0 if args.check else DEFAULT_PORT
    lifetime = args.lifetime or (CHECK_LIFETIME if args.check else CLERK_LIFETIME)
    try:
        return anyio.run(run, args.host, port, args.issuer_port, lifetime, args.check)
    except DemoError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130  # the shell's convention for SIGINT, without a traceback


if __name__ == "__main__":
    sys.exit(main())
