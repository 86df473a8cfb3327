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
from contextlib import contextmanager
from datetime import datetime, timezone

import anyio
import httpx

from .._auth import Authenticator
from .._config import JWTConfig
from .._errors import AuthError, InvalidJWT
from .._jwks import KeySources, RemoteKeySet
from .._options import DEFAULT_JWKS_OPTIONS
from .._request import headers_carrying
from .._session import Session
from .._token import parse_token
from .common import EXIT_AUTH, EXIT_OK, Subcommands, UsageError, add_azp_arguments, load_configs


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


def _timestamp(value: float) -> str:
    try:
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError, OSError):
        return f"{value:.0f} (POSIX seconds, beyond the calendar)"  # claims go up to 2^63


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} s"


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


def _why(error: AuthError, token: str, now: float) -> str:
    """What the failing check compared, from the unverified claims; claims are no secret."""
    if not isinstance(error, InvalidJWT):
        return ""
    try:
        claims = parse_token(token).claims
    except InvalidJWT:
        return ""
    for reason, claim, verb in (
        ("JWTExpired", "exp", "expired"),
        ("JWTNotYetValid", "nbf", "starts"),
        ("JWTIssuedAtFuture", "iat", "is issued"),
    ):
        if error.reason == reason and isinstance(claims.get(claim), (int, float)):
            at: float = claims[claim]
            delta = at - now
            when = f"in {_duration(delta)}" if delta > 0 else f"{_duration(-delta)} ago"
            return f" (the token {verb} at {_timestamp(at)}, {when})"
    for reason, claim in (("JWTNotInIssuer", "iss"), ("JWTNotInAudience", "aud")):
        if error.reason.startswith(reason) and claim in claims:
            # json.dumps escapes control characters: the claim is attacker-chosen text.
            return f" (the token's {claim} is {json.dumps(claims[claim])})"
    return ""


async def _authenticate(
    configs: Sequence[JWTConfig], headers: list[tuple[bytes, bytes]], args: argparse.Namespace
) -> tuple[Session | AuthError, list[RemoteKeySet]]:
    async with httpx.AsyncClient() as client:
        key_sources = KeySources(DEFAULT_JWKS_OPTIONS, http_client=client)
        now = args.at
        authenticator = Authenticator(
            configs,
            key_sources,
            authorized_parties=args.authorized_party,
            require_azp=args.require_azp,
            clock=time.time if now is None else lambda: now,
        )
        try:
            result: Session | AuthError = await authenticator.authenticate(headers)
        except AuthError as error:  # the Authenticator fails closed: never anything else
            result = error
        finally:
            for key_set in key_sources.remote.values():
                await key_set.aclose()
    return result, list(key_sources.remote.values())


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
    headers = headers_carrying(token, configs[0].location, args.role)
    with _library_logs_hidden():
        result, key_sets = anyio.run(_authenticate, configs, headers, args)
    now = time.time() if args.at is None else args.at
    if isinstance(result, AuthError):
        for status in (key_set.status() for key_set in key_sets):
            if not status.ready and status.last_error is not None:
                raise UsageError(f"cannot fetch the JWKS at {status.url}: {status.last_error}")
        why = _why(result, token, now)
        print(f"{result.code} (HTTP {result.status}): {result.message}{why}", file=sys.stderr)
        return EXIT_AUTH
    print(json.dumps(dict(result), indent=2))
    if result.expires_at is not None:
        left = _duration(result.expires_at - now)
        print(f"valid: expires at {_timestamp(result.expires_at)} (in {left})", file=sys.stderr)
    return EXIT_OK
