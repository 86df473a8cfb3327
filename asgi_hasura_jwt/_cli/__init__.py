"""The ``asgi-hasura-jwt`` command: ``verify`` a token, ``mint`` development tokens, ``demo``.

Exit codes: 0 success, 1 the token failed authentication, 2 a usage or configuration error.
Every error is one line on stderr; no token, secret or key material is ever part of one.
``verify`` runs the middleware's own `Authenticator`, so its answer is the middleware's answer.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import math
import os
import secrets
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NoReturn

import anyio
import httpx
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from .._auth import Authenticator
from .._claims import DEFAULT_NAMESPACE
from .._config import JWTConfig, parse_configs
from .._errors import AuthError, ConfigError, InvalidJWT, as_auth_error
from .._jwks import KeySources, RemoteKeySet
from .._keys import HMAC_MIN_BYTES, MIN_RSA_BITS, hmac_key
from .._options import DEFAULT_JWKS_OPTIONS
from .._session import Session
from .._token import parse_token

EXIT_OK, EXIT_AUTH, EXIT_USAGE = 0, 1, 2
# Clerk's Hasura template: nbf a little in the past absorbs clock drift; tokens live 60 s.
NOT_BEFORE_LEEWAY = 5
DEFAULT_LIFETIME = 60
# The self-check waits for its subscription to be closed at expiry: short, but long enough for
# the steps before it on a slow machine.
CHECK_LIFETIME = 3
DEFAULT_USER_ID = "user_dev"
DEFAULT_ISSUER = "https://clerk.dev.invalid"
DEFAULT_AZP = "http://localhost:3000"
RSA_ALGORITHMS = ("RS256", "RS384", "RS512")
_SECRET_VARIABLES = ("HASURA_GRAPHQL_JWT_SECRET", "HASURA_GRAPHQL_JWT_SECRETS")


class UsageError(Exception):
    """A one-line problem with the command line or the configuration (exit 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's default prints the whole usage block; one line keeps errors scannable.
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


# --- token shape, shared with the demo issuer -------------------------------------------------


def clerk_claims(
    *,
    user_id: str = DEFAULT_USER_ID,
    roles: Sequence[str] = ("user",),
    default_role: str | None = None,
    lifetime: int = DEFAULT_LIFETIME,
    issuer: str = DEFAULT_ISSUER,
    azp: str = DEFAULT_AZP,
    extra: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Claims shaped like a token from Clerk's Hasura JWT template (spec 6)."""
    issued = int(time.time())
    hasura: dict[str, Any] = {
        "x-hasura-user-id": user_id,
        "x-hasura-default-role": default_role if default_role is not None else roles[0],
        "x-hasura-allowed-roles": list(roles),
        **(extra or {}),
    }
    claims = {
        "azp": azp,
        "exp": issued + lifetime,
        DEFAULT_NAMESPACE: hasura,
        "iat": issued,
        "iss": issuer,
        "nbf": issued - NOT_BEFORE_LEEWAY,
        "sid": f"sess_{secrets.token_hex(12)}",
        "sub": user_id,
    }
    return dict(sorted(claims.items()))  # Clerk serialises claims in key order


def sign(claims: Mapping[str, Any], key: OctKey | RSAKey, alg: str, kid: str | None) -> str:
    """A compact JWS of ``claims``; ``kid`` names the key as Clerk does (its instance id)."""
    header = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid is not None else {})}
    return jwt.encode(header, dict(claims), key, algorithms=[alg])


# --- shared input handling ---------------------------------------------------------------------


def _read_value(text: str, what: str) -> str:
    """``text`` itself, or the contents of the file named by ``@path``."""
    if not text.startswith("@"):
        return text
    try:
        return Path(text[1:]).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {what} from {text[1:]}: {_read_problem(exc)}") from exc


def _read_problem(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "not UTF-8 text"


def _configs(config: str | None, environ: Mapping[str, str]) -> list[JWTConfig]:
    # ConfigError messages are Hasura's texts (spec 1.3) and never contain the key itself.
    try:
        return parse_configs(_read_value(config, "the config") if config else None, environ)
    except ConfigError as exc:
        raise UsageError(f"config error: {exc}") from exc


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


# --- verify ------------------------------------------------------------------------------------


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


def _request_headers(token: str, config: JWTConfig, role: str | None) -> list[tuple[bytes, bytes]]:
    """The request a client of this config would send: the token where the config reads it."""
    location = config.location
    value = token.encode("utf-8")
    if location.kind == "Authorization":
        headers = [(b"authorization", b"Bearer " + value)]
    elif location.kind == "Cookie":
        headers = [(b"cookie", location.name.encode("latin-1") + b"=" + value)]
    else:
        headers = [(location.name.encode("latin-1"), value)]
    if role is not None:
        headers.append((b"x-hasura-role", role.encode("utf-8")))
    return headers


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
        except Exception as exc:
            result = as_auth_error(exc)
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


def _verify(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    token = _read_token(args.token)
    configs = _configs(args.config, environ)
    headers = _request_headers(token, configs[0], args.role)
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


# --- mint --------------------------------------------------------------------------------------


def _rsa_signing_key(path: str) -> RSAKey:
    try:
        pem = Path(path.removeprefix("@")).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the key from {path}: {_read_problem(exc)}") from exc
    try:
        private = load_pem_private_key(pem, password=None)
    except TypeError:
        raise UsageError(f"{path}: encrypted private keys are not supported") from None
    except ValueError:
        raise UsageError(f"{path}: not a PEM private key") from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise UsageError(f"{path}: not an RSA private key (mint signs RS256/RS384/RS512)")
    if private.key_size < MIN_RSA_BITS:
        raise UsageError(
            f"{path}: RSA keys under {MIN_RSA_BITS} bits are refused by the middleware"
        )
    return RSAKey(private, private)


def _signing_key(
    args: argparse.Namespace, environ: Mapping[str, str]
) -> tuple[OctKey | RSAKey, str]:
    if args.key is not None and args.secret is not None:
        raise UsageError("give either --key or --secret, not both")
    if args.key is not None:
        alg = args.alg or "RS256"
        if alg not in RSA_ALGORITHMS:
            raise UsageError(f"--alg {alg} does not fit an RSA key ({', '.join(RSA_ALGORITHMS)})")
        return _rsa_signing_key(args.key), alg
    if args.secret is not None:
        # A secret file usually ends with a newline that is not part of the secret.
        secret = _read_value(args.secret, "the secret").rstrip("\r\n").encode("utf-8")
        key = hmac_key(secret)
    else:
        # No key given: the HMAC key of the config the app reads, so the token fits that app.
        if args.config is None and not any(name in environ for name in _SECRET_VARIABLES):
            raise UsageError(
                "no signing key: pass --secret, --key or --config (or set"
                " HASURA_GRAPHQL_JWT_SECRET to an HMAC config)"
            )
        config_key = _configs(args.config, environ)[0].key
        if config_key is None or config_key.family != "HMAC":
            raise UsageError(
                "no signing key: pass --secret or --key (the config holds a public key or a JWKS"
                " URL, which cannot sign)"
            )
        key = config_key
    alg = args.alg or "HS256"
    if alg not in HMAC_MIN_BYTES:
        raise UsageError(f"--alg {alg} does not fit an HMAC secret ({', '.join(HMAC_MIN_BYTES)})")
    # hmac_key allows exactly the algorithms the secret is long enough for (spec 7.1).
    if alg not in key.algorithms:
        raise UsageError(f"the secret is too short for {alg}: at least {HMAC_MIN_BYTES[alg]} bytes")
    assert isinstance(key.key, OctKey)
    return key.key, alg


def _claim(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.lower().startswith("x-hasura-"):
        raise argparse.ArgumentTypeError(f"expected x-hasura-NAME=VALUE, got {text!r}")
    return name.lower(), value


def _lifetime(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a positive number of seconds")
    return value


def _mint(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    key, alg = _signing_key(args, environ)
    roles = args.role or ["user"]
    if args.default_role is not None and args.default_role not in roles:
        raise UsageError(f"--default-role {args.default_role} is not one of the --role values")
    claims = clerk_claims(
        user_id=args.user_id,
        roles=roles,
        default_role=args.default_role,
        lifetime=args.lifetime,
        issuer=args.issuer,
        azp=args.azp,
        extra=dict(args.claim),
    )
    print(sign(claims, key, alg, args.kid))
    return EXIT_OK


# --- demo --------------------------------------------------------------------------------------

_DEMO_NEEDS = ("starlette", "strawberry", "uvicorn", "websockets")
# Present in a source checkout (editable install), absent from an installed wheel.
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _demo(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
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


# --- the command line --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="asgi-hasura-jwt",
        description="Verify and mint Hasura JWTs the way asgi_hasura_jwt's middleware sees them.",
        epilog="Exit codes: 0 ok, 1 authentication failed, 2 usage or configuration error.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    verify.add_argument(
        "--authorized-party",
        action="append",
        metavar="ORIGIN",
        help="accepted azp value (Clerk: your app's origins); repeatable",
    )
    verify.add_argument(
        "--require-azp",
        action="store_true",
        help="with --authorized-party: reject tokens without azp",
    )
    verify.add_argument(
        "--at", type=_instant, metavar="TIME", help="verify as of TIME (POSIX seconds or ISO 8601)"
    )
    verify.set_defaults(handler=_verify)

    mint = commands.add_parser(
        "mint",
        help="make a development token shaped like Clerk's Hasura template",
        description="Print a token with Clerk's Hasura template claims. Signs with --key (an RSA"
        " private key PEM), --secret (HMAC), or else the HMAC key of --config / the environment.",
    )
    mint.add_argument(
        "--secret",
        metavar="SECRET|@FILE",
        help="HMAC secret, or @FILE holding it (keeps it out of the process list)",
    )
    mint.add_argument("--key", metavar="PEM_FILE", help="RSA private key in PEM")
    mint.add_argument("--config", metavar="JSON|@FILE", help="take the HMAC key of this config")
    mint.add_argument(
        "--alg", choices=[*HMAC_MIN_BYTES, *RSA_ALGORITHMS], help="default HS256 / RS256"
    )
    mint.add_argument("--user-id", default=DEFAULT_USER_ID, help="x-hasura-user-id and sub")
    mint.add_argument("--role", action="append", help="an allowed role, repeatable (default: user)")
    mint.add_argument("--default-role", help="x-hasura-default-role (default: the first --role)")
    mint.add_argument(
        "--lifetime", type=_lifetime, default=DEFAULT_LIFETIME, help="seconds (default 60)"
    )
    mint.add_argument("--kid", help="key id for the header (Clerk: the instance id)")
    mint.add_argument("--issuer", default=DEFAULT_ISSUER, help="iss (Clerk: the Frontend API URL)")
    mint.add_argument("--azp", default=DEFAULT_AZP, help="authorized party (the app's origin)")
    mint.add_argument(
        "--claim",
        type=_claim,
        action="append",
        default=[],
        metavar="x-hasura-NAME=VALUE",
        help="an extra session variable, repeatable",
    )
    mint.set_defaults(handler=_mint)

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
        type=_lifetime,
        help=f"token lifetime in seconds (default {DEFAULT_LIFETIME}; --check: {CHECK_LIFETIME})",
    )
    demo.add_argument(
        "--check",
        action="store_true",
        help="run mint, query, subscribe and expiry against the demo, then exit 0 or 1",
    )
    demo.set_defaults(handler=_demo)
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
