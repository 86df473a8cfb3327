"""The ``asgi-hasura-jwt`` command: ``verify`` a token, ``mint`` development tokens, ``demo``,
``serve`` the auth webhook.

One module per subcommand, each with a ``register`` that adds its parser and a ``run`` handler;
`common` holds what they share. Exit codes: 0 success, 1 the token failed authentication, 2 a
usage or configuration error. Every error is one line on stderr; no token, secret or key
material is ever part of one.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

from .. import __version__
from . import demo, mint, serve, verify
from .common import EXIT_USAGE, UsageError

COMMANDS = (verify, mint, demo, serve)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's default prints the whole usage block; one line keeps errors scannable.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="asgi-hasura-jwt",
        description="Verify and mint Hasura JWTs the way asgi_hasura_jwt's middleware sees them.",
        epilog="Exit codes: 0 ok, 1 authentication failed, 2 usage or configuration error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    args = _parser().parse_args(argv)
    try:
        code: int = args.handler(args, os.environ if environ is None else environ)
    except UsageError as exc:
        print(f"asgi-hasura-jwt {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130  # the shell's convention for SIGINT, without a traceback
    return code
