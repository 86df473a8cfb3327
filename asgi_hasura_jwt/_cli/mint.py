"""``asgi-hasura-jwt mint``: development tokens shaped like Clerk's Hasura template."""

from __future__ import annotations

import argparse
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from .._claims import DEFAULT_NAMESPACE
from .._keys import HMAC_MIN_BYTES, MIN_RSA_BITS, hmac_key
from .common import (
    DEFAULT_LIFETIME,
    EXIT_OK,
    Subcommands,
    UsageError,
    lifetime,
    load_configs,
    read_problem,
    read_value,
)

# Clerk's Hasura template: nbf a little in the past absorbs clock drift; tokens live 60 s.
NOT_BEFORE_LEEWAY = 5
DEFAULT_USER_ID = "user_dev"
DEFAULT_ISSUER = "https://clerk.dev.invalid"
DEFAULT_AZP = "http://localhost:3000"
RSA_ALGORITHMS = ("RS256", "RS384", "RS512")
_SECRET_VARIABLES = ("HASURA_GRAPHQL_JWT_SECRET", "HASURA_GRAPHQL_JWT_SECRETS")


def register(commands: Subcommands) -> None:
    """Add the ``mint`` subcommand."""
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
        "--lifetime", type=lifetime, default=DEFAULT_LIFETIME, help="seconds (default 60)"
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
    mint.set_defaults(handler=run)


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


def _rsa_signing_key(path: str) -> RSAKey:
    try:
        pem = Path(path.removeprefix("@")).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the key from {path}: {read_problem(exc)}") from exc
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
        secret = read_value(args.secret, "the secret").rstrip("\r\n").encode("utf-8")
        key = hmac_key(secret)
    else:
        # No key given: the HMAC key of the config the app reads, so the token fits that app.
        if args.config is None and not any(name in environ for name in _SECRET_VARIABLES):
            raise UsageError(
                "no signing key: pass --secret, --key or --config (or set"
                " HASURA_GRAPHQL_JWT_SECRET to an HMAC config)"
            )
        config_key = load_configs(args.config, environ)[0].key
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


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
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
