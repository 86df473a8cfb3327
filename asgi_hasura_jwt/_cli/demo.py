"""``asgi-hasura-jwt demo``: run the local Clerk-style demo of a source checkout.

The demo is an example (examples/demo), not part of the installed package: its frameworks are
development extras, never runtime dependencies. This command becomes ``python -m examples.demo``
with the same arguments, run from the repository root as ``make demo`` does: the process is
replaced (`os.execv`), so Ctrl-C, the output and the exit code are the demo's own.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .common import Subcommands, UsageError

MODULE = "examples.demo"
_DEMO_NEEDS = ("starlette", "strawberry", "uvicorn", "websockets")


def register(commands: Subcommands) -> None:
    """Add the ``demo`` subcommand."""
    # "+" as the only prefix: argparse then leaves every "--option" (--help too) to the demo's
    # own parser, the one place its options are defined.
    demo = commands.add_parser(
        "demo",
        prefix_chars="+",
        add_help=False,
        help="run the local Clerk-style issuer and a GraphQL app behind the middleware",
        description=f"Run `python -m {MODULE}` (from a checkout's root; needs the dev extras).",
    )
    demo.add_argument(
        "arguments",
        nargs="*",
        metavar="OPTION",
        help="--host, --port, --issuer-port, --lifetime, --check (demo --help lists them)",
    )
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    # `python -m` looks in the working directory first: that is where the demo must be.
    if not (Path.cwd() / "examples" / "demo" / "__main__.py").is_file():
        raise UsageError(
            "the demo ships with the source repository (examples/demo): run `make demo`, or"
            " this command, in the root of a checkout"
        )
    missing = [name for name in _DEMO_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"the demo needs the development extras (missing: {', '.join(missing)}):"
            " pip install -e '.[dev]', or run `make demo`"
        )
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", MODULE, *args.arguments])  # noqa: S606
