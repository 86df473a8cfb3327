"""``asgi-hasura-jwt verify``: what the middleware makes of a token, and why it fails.

It runs the middleware's own `Authenticator`, so its answer is the middleware's answer.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime, timezone

import anyio
import httpx

from .._auth import Authenticator
from .._config import JWTConfig
from .._errors import AuthError
from .._jwks import KeySources, RemoteKeySet
from .._keys import VerificationKey
from .._options import DEFAULT_JWKS_OPTIONS
from .._request import headers_carrying
from .._session import Session
from .common import (
    EXIT_AUTH,
    EXIT_OK,
    Subcommands,
    UsageError,
    add_azp_arguments,
    load_configs,
)
from .explain import (
    Evidence,
    duration,
    parsed_or_none,
    presented_config,
    skew_note,
    timestamp,
    why_refused,
)


def register(commands: Subcommands) -> None:
    """Add the ``verify`` subcommand."""
    verify = commands.add_parser(
        "verify",
        help="explain what the middleware makes of a token",
        description="Print the session the middleware would resolve for TOKEN as JSON, or the"
        " failing check with Hasura's error code and message. The token is presented where the"
        " first config reads it (Authorization, cookie or custom header).",
    )
    verify.add_argument("token", nargs="?", help="the JWT; '-' or omitted: read from stdin")
    verify.add_argument(
        "--config",
        metavar="JSON|@FILE",
        help="a HASURA_GRAPHQL_JWT_SECRET object or a list of them; default: the environment"
        " (HASURA_GRAPHQL_JWT_SECRETS, then HASURA_GRAPHQL_JWT_SECRET)",
    )
    verify.add_argument("--role", help="send this x-hasura-role request header")
    add_azp_arguments(verify)
    verify.add_argument(
        "--at", type=_instant, metavar="TIME", help="verify as of TIME (POSIX seconds or ISO 8601)"
    )
    verify.set_defaults(handler=run)


def _instant(text: str) -> float:
    """``--at``: POSIX seconds or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError("expected a finite time")
        return value
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError("expected POSIX seconds or an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def _read_token(argument: str | None) -> str:
    if argument is None or argument == "-":
        if sys.stdin.isatty():
            raise UsageError("no token: pass one as an argument or pipe it on stdin")
        argument = sys.stdin.read()
    words = argument.split()
    # A pasted header value ("Bearer eyJ...") means the token inside it.
    if words and words[0].lower() == "bearer":
        words = words[1:]
    token = " ".join(words)
    if not token:
        raise UsageError("no token: the token is empty")
    return token


async def _authenticate(
    configs: Sequence[JWTConfig], token: str, args: argparse.Namespace, now: float
) -> tuple[Session | AuthError, list[RemoteKeySet], Evidence]:
    headers = headers_carrying(token, configs[0].location, args.role)
    async with httpx.AsyncClient() as client:
        key_sources = KeySources(DEFAULT_JWKS_OPTIONS, http_client=client)
        authenticator = Authenticator(
            configs,
            key_sources,
            authorized_parties=args.authorized_party,
            require_azp=args.require_azp,
            clock=lambda: now,
        )
        try:
            try:
                result: Session | AuthError = await authenticator.authenticate(headers)
            except AuthError as error:  # the Authenticator fails closed: never anything else
                result = error
            # Gathered while the key sets are open; the key sets are the Authenticator's.
            evidence = await _evidence(configs, token, key_sources, args, now)
        finally:
            for key_set in key_sources.remote.values():
                await key_set.aclose()
    return result, list(key_sources.remote.values()), evidence


async def _evidence(
    configs: Sequence[JWTConfig],
    token: str,
    key_sources: KeySources,
    args: argparse.Namespace,
    now: float,
) -> Evidence:
    config = presented_config(configs, token)
    keys: Sequence[VerificationKey] = ()
    jwks = None
    parsed = parsed_or_none(token)
    if config is not None and parsed is not None:
        source = key_sources(config)  # the key set the Authenticator used: it is shared
        kid = parsed.header.get("kid")
        with suppress(AuthError):  # no keys at all: reported as the JWKS's failure
            keys = await source.keys_for(kid if isinstance(kid, str) else None)
        if isinstance(source, RemoteKeySet):
            jwks = source.status()
    return Evidence(token, config, keys, jwks, args.role, args.authorized_party, now)


@contextmanager
def _library_logs_hidden() -> Iterator[None]:
    # The command reports failures itself. Without a handler, Python's last-resort handler would
    # print the library's warnings too, such as "retrying in 60 s", untrue for a one-shot run.
    logger = logging.getLogger("asgi_hasura_jwt")
    handler = logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    token = _read_token(args.token)
    configs = load_configs(args.config, environ)
    now = time.time() if args.at is None else args.at
    with _library_logs_hidden():
        result, key_sets, evidence = anyio.run(_authenticate, configs, token, args, now)
    if isinstance(result, AuthError):
        for status in (key_set.status() for key_set in key_sets):
            if not status.ready and status.last_error is not None:
                raise UsageError(f"cannot fetch the JWKS at {status.url}: {status.last_error}")
        why = why_refused(result, evidence)
        print(f"{result.code} (HTTP {result.status}): {result.message}{why}", file=sys.stderr)
        return EXIT_AUTH
    print(json.dumps(dict(result), indent=2))
    note = skew_note(result, evidence)
    if note is not None:
        print(note, file=sys.stderr)
    elif result.expires_at is not None:
        left = duration(result.expires_at - now)
        print(f"valid: expires at {timestamp(result.expires_at)} (in {left})", file=sys.stderr)
    return EXIT_OK
