"""``asgi-hasura-jwt demo``: the local Clerk-style demo from a source checkout's examples/."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .common import CHECK_LIFETIME, DEFAULT_LIFETIME, Subcommands, UsageError, lifetime


def register(commands: Subcommands) -> None:
    """Add the ``demo`` subcommand."""
    demo = commands.add_parser(
        "demo",
        help="run the local Clerk-style issuer and a GraphQL app behind the middleware",
        description="Serve a Clerk-compatible development issuer and a Strawberry GraphQL app"
        " behind HasuraJWTMiddleware on loopback (needs the development extras).",
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument(
        "--port", type=int, help="GraphQL app port (default 8000; --check: any free port)"
    )
    demo.add_argument("--issuer-port", type=int, help="issuer port (default: --port + 1)")
    demo.add_argument(
        "--lifetime",
        type=lifetime,
        help=f"token lifetime in seconds (default {DEFAULT_LIFETIME}; --check: {CHECK_LIFETIME})",
    )
    demo.add_argument(
        "--check",
        action="store_true",
        help="run mint, query, subscribe and expiry against the demo, then exit 0 or 1",
    )
    demo.set_defaults(handler=run)


_DEMO_NEEDS = ("starlette", "strawberry", "uvicorn", "websockets")
# Present in a source checkout (editable install), absent from an installed wheel.
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    # The demo lives in the source tree's examples/, outside the installed package: its
    # frameworks are development extras, never runtime dependencies.
    if not (EXAMPLES / "demo" / "__init__.py").is_file():
        raise UsageError(
            "the demo ships with the source repository (examples/demo): run `make demo` in a"
            " checkout"
        )
    missing = [name for name in _DEMO_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(
            f"the demo needs the development extras (missing: {', '.join(missing)}):"
            " pip install -e '.[dev]', or run `make demo`"
        )
    demo = _load_demo(EXAMPLES)
    result: int = demo.main(
        host=args.host,
        port=args.port,
        issuer_port=args.issuer_port,
        lifetime=args.lifetime or (CHECK_LIFETIME if args.check else DEFAULT_LIFETIME),
        check=args.check,
    )
    return result


def _load_demo(examples: Path) -> Any:
    # Loaded under a private name: a foreign top-level "examples" package may be installed.
    name = "asgi_hasura_jwt_examples"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, examples / "__init__.py", submodule_search_locations=[str(examples)]
        )
        assert spec is not None
        assert spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[name] = package
        spec.loader.exec_module(package)
    return importlib.import_module(f"{name}.demo")
