"""What every subcommand shares: exit codes, `UsageError`, reading ``@file`` values and configs."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

from .._config import JWTConfig, parse_configs
from .._errors import ConfigError

EXIT_OK, EXIT_AUTH, EXIT_USAGE = 0, 1, 2

# What each command's ``register`` adds its subparser to.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class UsageError(Exception):
    """A one-line problem with the command line or the configuration (exit 2)."""


def add_azp_arguments(parser: argparse.ArgumentParser) -> None:
    """``--authorized-party`` and ``--require-azp``: the ``authorized_parties`` and
    ``require_azp`` options (spec 6)."""
    parser.add_argument(
        "--authorized-party",
        action="append",
        metavar="ORIGIN",
        help="accepted azp value (Clerk: your app's origins); repeatable",
    )
    parser.add_argument(
        "--require-azp",
        action="store_true",
        help="with --authorized-party: reject tokens without azp",
    )


def read_value(text: str, what: str) -> str:
    """``text`` itself, or the contents of the file named by ``@path``."""
    if not text.startswith("@"):
        return text
    try:
        return Path(text[1:]).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} from {text[1:]}: {read_problem(exc)}") from exc


def read_problem(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "not UTF-8 text"


def load_configs(config: str | None, environ: Mapping[str, str]) -> list[JWTConfig]:
    # ConfigError messages are Hasura's texts (spec 1.3) and never contain the key itself.
    try:
        return parse_configs(read_value(config, "the config") if config else None, environ)
    except ConfigError as exc:
        raise UsageError(f"config error: {exc}") from exc


def lifetime(text: str) -> int:
    """``--lifetime``: a positive number of seconds."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive number of seconds")
    return value
