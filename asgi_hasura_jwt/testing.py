"""Signed tokens for development and tests: keys of every family, their configs, a minter.

Import it as ``from asgi_hasura_jwt import testing``; the package root does not, so production
code never loads it. It depends on joserfc and cryptography only. Nothing here verifies a token
(the middleware does) and nothing refuses one: `mint` signs whatever header and claims it is
given, so a test can craft the malformed tokens the middleware must refuse.

- `SigningKey`: a private key (or HMAC secret), the algorithm it signs with, the
  ``HASURA_GRAPHQL_JWT_SECRET`` object that verifies it (``.config``) and its public JWK for a
  JWKS (``.jwk()``).
- `mint`: a compact JWS of any claims, or of raw bytes with a raw header.
- Claim builders that compose: `hasura_claims` (the session variables), `registered_claims`
  (``iat``, ``nbf``, ``exp`` from a lifetime), `clerk_claims` (Clerk's Hasura JWT template).
- Hostile inputs: `gzip_bomb`, a tiny gzip body that inflates to hundreds of MiB (a JWKS server
  that compresses although asked not to).
"""

from __future__ import annotations

import base64
import functools
import json
import secrets
import struct
import time
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from joserfc.jws import JWSRegistry

from ._keys import EC_ALGORITHM_BY_CURVE, HMAC_MIN_BYTES, MIN_RSA_BITS, JoseKey
from ._names import DEFAULT_NAMESPACE

__all__ = [
    "CLERK_LIFETIME",
    "NAMESPACE",
    "NOT_BEFORE_LEEWAY",
    "SigningKey",
    "b64url",
    "clerk_claims",
    "gzip_bomb",
    "hasura_claims",
    "mint",
    "registered_claims",
]

NAMESPACE = DEFAULT_NAMESPACE
# Clerk's Hasura template: tokens live 60 s; nbf a little in the past absorbs clock drift.
CLERK_LIFETIME = 60
NOT_BEFORE_LEEWAY = 5

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
_CURVES = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 section 2), the encoding of every JWS segment."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """A key that signs tokens, and the Hasura config that verifies them.

    ``name`` is the config's ``type`` (``HS256`` … ``ES512``, ``Ed25519``); ``alg`` the
    algorithm `mint` uses unless told otherwise; ``private`` the `cryptography` private key
    (``None`` for HMAC); ``kid``, when set, goes into every token's header and the JWK.
    """

    name: str
    alg: str
    jose_key: JoseKey
    config: dict[str, Any]
    private: PrivateKey | None = None
    kid: str | None = None

    @classmethod
    def generate(cls, name: str = "RS256", *, kid: str | None = None) -> SigningKey:
        """A fresh key for the config type ``name`` (``HS256`` … ``ES512``, ``Ed25519``): RSA
        keys have 2048 bits, HMAC secrets 64 bytes (enough for HS512). Raises `ValueError` for
        any other name."""
        if name in HMAC_MIN_BYTES:
            return cls.hmac(secrets.token_urlsafe(48), name, kid=kid)
        return cls.from_private_key(_generate(name), name, kid=kid)

    @classmethod
    def hmac(cls, secret: str, alg: str = "HS256", *, kid: str | None = None) -> SigningKey:
        """An HMAC key. It is not checked against the spec's length floor (7.1), so that tests
        can mint with too short a secret; ``config`` names it with type ``alg``."""
        raw = secret.encode("utf-8")
        return cls(alg, alg, OctKey(raw, raw), {"type": alg, "key": secret}, kid=kid)

    @classmethod
    def from_private_key(
        cls, private: PrivateKey, name: str | None = None, *, kid: str | None = None
    ) -> SigningKey:
        """Wrap a `cryptography` private key; ``name`` is the config type (by default RS256 for
        RSA, the curve's ES type for EC, Ed25519). Raises `ValueError` for other keys."""
        jose_key: JoseKey
        if isinstance(private, rsa.RSAPrivateKey):
            name, alg, jose_key = name or "RS256", name or "RS256", RSAKey(private, private)
        elif isinstance(private, ec.EllipticCurvePrivateKey):
            curve = _CURVE_NAMES.get(private.curve.name)
            if curve is None:
                raise ValueError(f"unsupported curve {private.curve.name}")
            alg = EC_ALGORITHM_BY_CURVE[curve]
            name, jose_key = name or alg, ECKey(private, private)
        elif isinstance(private, ed25519.Ed25519PrivateKey):
            name, alg, jose_key = name or "Ed25519", "EdDSA", OKPKey(private, private)
        else:
            raise ValueError("expected an RSA, EC or Ed25519 private key")
        config = {"type": name, "key": _public_pem(private)}
        return cls(name, alg, jose_key, config, private, kid)

    def jwk(self) -> dict[str, Any]:
        """The public JWK for a JWKS document, with ``alg``, ``use`` and (when set) ``kid`` as
        Clerk publishes them. Raises `ValueError` for an HMAC key."""
        if self.private is None:
            raise ValueError("an HMAC secret has no public JWK")
        jwk = {**self.jose_key.as_dict(private=False), "alg": self.alg, "use": "sig"}
        return jwk if self.kid is None else {**jwk, "kid": self.kid}

    def sign(self, signing_input: bytes, alg: str | None = None) -> bytes:
        """The raw signature of ``signing_input`` with ``alg`` (default: the key's)."""
        algorithm = JWSRegistry.algorithms[alg or self.alg]
        return bytes(algorithm.sign(signing_input, self.jose_key))


def _generate(name: str) -> PrivateKey:
    if name in ("RS256", "RS384", "RS512"):
        return rsa.generate_private_key(public_exponent=65537, key_size=MIN_RSA_BITS)
    if name in _CURVES:
        return ec.generate_private_key(_CURVES[name])
    if name == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise ValueError(f"no key type {name!r}")


def _public_pem(private: PrivateKey) -> str:
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def mint(
    key: SigningKey,
    claims: Mapping[str, Any] | bytes,
    *,
    alg: str | None = None,
    header: Mapping[str, Any] | None = None,
    raw_header: bytes | None = None,
) -> str:
    """A compact JWS of ``claims`` signed by ``key``.

    The header is ``{"alg": alg or key.alg, "typ": "JWT"}``, then ``kid`` when the key has one,
    then ``header``'s members. ``raw_header`` (the header's exact bytes) and bytes ``claims``
    (the payload's) let a test sign segments that are not the JSON the middleware accepts.
    """
    if raw_header is None:
        fields: dict[str, Any] = {"alg": alg or key.alg, "typ": "JWT"}
        if key.kid is not None:
            fields["kid"] = key.kid
        raw_header = json.dumps({**fields, **(header or {})}).encode()
    body = claims if isinstance(claims, bytes) else json.dumps(dict(claims)).encode()
    signing_input = f"{b64url(raw_header)}.{b64url(body)}"
    return f"{signing_input}.{b64url(key.sign(signing_input.encode(), alg))}"


def hasura_claims(
    user_id: str = "user-1",
    roles: Sequence[str] = ("user",),
    default_role: str | None = None,
    **variables: Any,
) -> dict[str, Any]:
    """The Hasura claims object: user id, default role (the first role unless given), allowed
    roles, then ``variables`` (``**{"x-hasura-org-id": "42"}``)."""
    return {
        "x-hasura-user-id": user_id,
        "x-hasura-default-role": default_role if default_role is not None else roles[0],
        "x-hasura-allowed-roles": list(roles),
        **variables,
    }


def registered_claims(
    lifetime: float = CLERK_LIFETIME,
    *,
    now: float | None = None,
    leeway: int = NOT_BEFORE_LEEWAY,
) -> dict[str, int]:
    """``iat`` now (whole seconds), ``nbf`` ``leeway`` seconds earlier, ``exp`` ``lifetime``
    seconds after ``iat``."""
    issued = int(time.time() if now is None else now)
    return {"exp": issued + int(lifetime), "iat": issued, "nbf": issued - leeway}


def clerk_claims(
    *,
    user_id: str,
    issuer: str,
    azp: str,
    lifetime: float = CLERK_LIFETIME,
    hasura: Mapping[str, Any] | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Claims shaped like a token from Clerk's Hasura JWT template (spec 6): ``azp``, ``exp``,
    ``iat``, ``iss``, ``jti``, ``nbf``, ``sub`` and the Hasura claims (by default
    ``hasura_claims(user_id)``) under `NAMESPACE`, in Clerk's (sorted) order."""
    claims: dict[str, Any] = {
        **registered_claims(lifetime, now=now),
        "azp": azp,
        "iss": issuer,
        # A template token names no session (spec 6: no sid); Clerk's session tokens do.
        "jti": secrets.token_hex(10),
        "sub": user_id,
        NAMESPACE: dict(hasura) if hasura is not None else hasura_claims(user_id),
    }
    return dict(sorted(claims.items()))


@functools.cache
def gzip_bomb(mebibytes: int = 256) -> bytes:
    """A valid gzip body of about 1 KiB per MiB of zeros it inflates to, built in ~0.1 s.

    After a full flush the compressor starts afresh, so each further MiB of zeros compresses to
    the same bytes: one is compressed, repeated, and the gzip trailer (CRC-32, size) written
    by hand after an empty final block.
    """
    mib = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    head = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(mib) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mebibytes):
        crc = zlib.crc32(mib, crc)
    empty_final_block = b"\x03\x00"
    trailer = struct.pack("<II", crc, (mebibytes << 20) & 0xFFFFFFFF)
    return head + repeated * (mebibytes - 1) + empty_final_block + trailer
