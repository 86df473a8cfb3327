"""``asgi-hasura-jwt mint``: development tokens shaped like Clerk's Hasura template.

The token is made by `asgi_hasura_jwt.testing`, the factory the tests and the demo use too.
``--key`` signs with any algorithm an RSA key verifies (`RSA_ALGORITHMS`: RS and PS).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from joserfc.jwk import OctKey

from .._keys import HMAC_MIN_BYTES, MIN_RSA_BITS, RSA_ALGORITHMS, hmac_key
from .._names import JWT_SECRET_VARIABLE, JWT_SECRETS_VARIABLE
from ..testing import CLERK_LIFETIME, SigningKey, clerk_claims, hasura_claims, mint
from .common import (
    EXIT_OK,
    Subcommands,
    UsageError,
    lifetime,
    load_configs,
    read_problem,
    read_value,
)

DEFAULT_USER_ID = "user_dev"
DEFAULT_ISSUER = "https://clerk.dev.invalid"
DEFAULT_AZP = "http://localhost:3000"
_SECRET_VARIABLES = (JWT_SECRET_VARIABLE, JWT_SECRETS_VARIABLE)


def register(commands: Subcommands) -> None:
    """Add the ``mint`` subcommand."""
    mint = commands.add_parser(
        "mint",
        help="make a development token shaped like Clerk's Hasura template",
        description="Print a token with Clerk's Hasura template claims. Signs with --key (an RSA"
        " private key PEM: RS256-512 or PS256-512), --secret (HMAC), or else the HMAC key of"
        " --config / the environment.",
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
        "--lifetime", type=lifetime, default=CLERK_LIFETIME, help="seconds (default 60)"
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


def _rsa_signing_key(path: str, kid: str | None) -> SigningKey:
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
        raise UsageError(
            f"{path}: not an RSA private key (--key signs {', '.join(RSA_ALGORITHMS)})"
        )
    if private.key_size < MIN_RSA_BITS:
        raise UsageError(
            f"{path}: RSA keys under {MIN_RSA_BITS} bits are refused by the middleware"
        )
    return SigningKey.from_private_key(private, kid=kid)


def _hmac_secret(args: argparse.Namespace, environ: Mapping[str, str]) -> str:
    if args.secret is not None:
        # A secret file usually ends with a newline that is not part of the secret.
        return read_value(args.secret, "the secret").rstrip("\r\n")
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
    assert isinstance(config_key.key, OctKey)
    # A config's key is the UTF-8 of its JSON string (spec 1.3).
    return config_key.key.raw_value.decode("utf-8")


def _signing_key(args: argparse.Namespace, environ: Mapping[str, str]) -> tuple[SigningKey, str]:
    if args.key is not None and args.secret is not None:
        raise UsageError("give either --key or --secret, not both")
    if args.key is not None:
        alg = args.alg or "RS256"
        if alg not in RSA_ALGORITHMS:
            raise UsageError(f"--alg {alg} does not fit an RSA key ({', '.join(RSA_ALGORITHMS)})")
        return _rsa_signing_key(args.key, args.kid), alg
    secret = _hmac_secret(args, environ)
    alg = args.alg or "HS256"
    if alg not in HMAC_MIN_BYTES:
        raise UsageError(f"--alg {alg} does not fit an HMAC secret ({', '.join(HMAC_MIN_BYTES)})")
    # hmac_key allows exactly the algorithms the secret is long enough for (spec 7.1).
    if alg not in hmac_key(secret.encode("utf-8")).algorithms:
        raise UsageError(f"the secret is too short for {alg}: at least {HMAC_MIN_BYTES[alg]} bytes")
    return SigningKey.hmac(secret, alg, kid=args.kid), alg


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
        issuer=args.issuer,
        azp=args.azp,
        lifetime=args.lifetime,
        hasura=hasura_claims(args.user_id, roles, args.default_role, **dict(args.claim)),
    )
    print(mint(key, claims, alg=alg))
    return EXIT_OK
