"""Verification keys: import once, pin the algorithms each key may verify (spec 1.1, 4.1, 7.1).

A `VerificationKey` pairs a joserfc key object with the joserfc algorithm objects that key is
allowed to verify, so the request path does one dict lookup and one ``verify`` call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509 import load_pem_x509_certificate
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from ._algorithms import for_key
from ._errors import ConfigError

JoseKey = OctKey | RSAKey | ECKey | OKPKey

MIN_RSA_BITS = 2048
HMAC_MIN_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}
RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
EC_ALGORITHM_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
OKP_ALGORITHMS = ("EdDSA", "Ed25519")
CONFIG_TYPES = (
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "Ed25519",
    "ES256",
    "ES384",
    "ES512",
)
# JWK members that only private (or symmetric) keys carry (RFC 7518 section 6).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.DOTALL)
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}


@dataclass(frozen=True, eq=False)
class VerificationKey:
    """A public key (or HMAC secret) and the algorithms it may verify."""

    family: str  # "HMAC" | "RSA" | "EC" | "OKP"
    key: JoseKey
    algorithms: Mapping[str, Any]  # algorithm name -> joserfc JWSAlgModel (`_algorithms`)
    kid: str | None = None

    def __repr__(self) -> str:
        # Never show key material, not even a public key.
        return f"VerificationKey({self.family}, kid={self.kid!r}, algs={sorted(self.algorithms)})"


def _pinned(
    family: str, key: JoseKey, algorithms: Sequence[str], kid: str | None
) -> VerificationKey:
    return VerificationKey(family, key, for_key(key, algorithms), kid)


def _asymmetric(public_key: Any, kid: str | None = None) -> VerificationKey | str:
    """Wrap a `cryptography` public key, or say why it is not usable."""
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            return f"RSA key size too small; should be atleast {MIN_RSA_BITS} bits"
        return _pinned("RSA", RSAKey(public_key, public_key), RSA_ALGORITHMS, kid)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curve = _CURVE_NAMES.get(public_key.curve.name)
        if curve is None:
            return f"unsupported curve {public_key.curve.name}"
        algorithms = (EC_ALGORITHM_BY_CURVE[curve],)
        return _pinned("EC", ECKey(public_key, public_key), algorithms, kid)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return _pinned("OKP", OKPKey(public_key, public_key), OKP_ALGORITHMS, kid)
    return f"unsupported key type {type(public_key).__name__}"


def hmac_key(secret: bytes, kid: str | None = None) -> VerificationKey:
    """An HMAC key allowed every HS algorithm its length is strong enough for (spec 7.1)."""
    names = [name for name, minimum in HMAC_MIN_BYTES.items() if len(secret) >= minimum]
    return _pinned("HMAC", OctKey(secret, secret), names, kid)


def _family_of_type(key_type: str) -> str:
    return {"HS": "HMAC", "RS": "RSA", "ES": "EC"}.get(key_type[:2], "OKP")


def key_from_config(key_type: Any, key_text: Any) -> VerificationKey:
    """Import the ``key`` of a static config, validated against its ``type`` (spec 1.3)."""
    if key_type is None:
        raise ConfigError('key "type" not found')
    if key_type not in CONFIG_TYPES:
        raise ConfigError(f"Invalid JWK: Key type: {key_type} is not supported")
    if not isinstance(key_text, str):
        raise ConfigError("Invalid JWK: key must be a string")
    if key_type in HMAC_MIN_BYTES:
        secret = key_text.encode("utf-8")
        minimum = HMAC_MIN_BYTES[key_type]
        if len(secret) < minimum:
            raise ConfigError(
                f"Invalid JWK: Key size too small; should be atleast {minimum} characters"
            )
        return hmac_key(secret)
    result = _asymmetric(_load_pem_public_key(key_text.encode("utf-8")))
    if isinstance(result, str):
        raise ConfigError(f"Invalid JWK: {result}")
    if result.family != _family_of_type(key_type) or (
        result.family == "EC" and key_type not in result.algorithms
    ):
        raise ConfigError(f"Invalid JWK: key does not match type {key_type}")
    return result


def _load_pem_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    block = _PEM_BLOCK.search(pem)
    if block is None:
        raise ConfigError("Invalid JWK: Could not decode PEM: no PEM block found")
    label = block.group(1)
    if b"PRIVATE" in label:
        raise ConfigError(
            "Invalid JWK: Could not decode PEM: a private key was given; configure the public key"
        )
    try:
        if label == b"CERTIFICATE":
            return load_pem_x509_certificate(block.group()).public_key()
        return load_pem_public_key(block.group())
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"Invalid JWK: Could not decode PEM: unreadable {label.decode()} block"
        ) from exc


def _b64url_member(value: Any) -> Any:
    # Some providers publish RSA n/e in standard base64 with padding (spec 4.1).
    if isinstance(value, str):
        return value.rstrip("=").replace("+", "-").replace("/", "_")
    return value


def key_from_jwk(jwk: Any) -> VerificationKey | str:
    """Import one JWKS entry, or return why it is skipped (spec 4.1, 7.8)."""
    if not isinstance(jwk, dict):
        return "not an object"
    kty = jwk.get("kty")
    kid = jwk.get("kid")
    if kid is not None and not isinstance(kid, str):
        return "kid is not a string"
    if kty == "oct":
        return "symmetric keys are never taken from a JWKS"
    if PRIVATE_MEMBERS & jwk.keys():
        return "private key members present"
    if jwk.get("use", "sig") != "sig":
        return "use is not sig"
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        return "key_ops does not allow verify"
    # Only public members are handed on, so nothing private can reach a key object.
    native: Any
    public: Any
    try:
        if kty == "RSA":
            public = {
                "kty": kty,
                "n": _b64url_member(jwk.get("n")),
                "e": _b64url_member(jwk.get("e")),
            }
            native = RSAKey.binding.import_from_dict(public)
        elif kty == "EC":
            public = {"kty": kty, "crv": jwk.get("crv"), "x": jwk.get("x"), "y": jwk.get("y")}
            native = ECKey.binding.import_from_dict(public)
        elif kty == "OKP" and jwk.get("crv") == "Ed25519":
            public = {"kty": kty, "crv": "Ed25519", "x": jwk.get("x")}
            native = OKPKey.binding.import_from_dict(public)
        else:
            return f"unsupported key type {kty!r}/{jwk.get('crv')!r}"
    except Exception:  # any malformed member; the key is skipped, the set survives
        return f"malformed {kty} key"
    result = _asymmetric(native, kid)
    if isinstance(result, str):
        return result
    alg = jwk.get("alg")
    if alg is None:
        return result
    if not isinstance(alg, str) or alg not in result.algorithms:
        return f"alg {alg!r} does not fit a {result.family} key"
    return VerificationKey(result.family, result.key, {alg: result.algorithms[alg]}, kid)


class KeySource(Protocol):
    """Where a config's verification keys come from: a static key, or a JWKS (``_jwks/``)."""

    @property
    def version(self) -> int:
        """Changes whenever the key set changes; cached verifications of older versions lapse."""
        ...

    def keys_now(self, kid: str | None) -> Sequence[VerificationKey] | None:
        """What `keys_for` gives when it need not wait (no fetch due), or ``None``.

        Synchronous: most verifications find their keys here, with no await.
        """
        ...

    async def keys_for(self, kid: str | None) -> Sequence[VerificationKey]:
        """Keys to try for a token with this ``kid`` (spec 4.3 key choice).

        Raises `InvalidJWT` ``JWSError NoUsableKeys`` when there are none at all.
        """
        ...


class StaticKeys:
    """The one key of a ``{"type": ..., "key": ...}`` config; ``kid`` is ignored (as Hasura)."""

    version = 0

    def __init__(self, key: VerificationKey) -> None:
        self._keys = (key,)

    def keys_now(self, kid: str | None) -> Sequence[VerificationKey]:
        return self._keys

    async def keys_for(self, kid: str | None) -> Sequence[VerificationKey]:
        return self._keys
