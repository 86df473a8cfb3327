"""Static key import (spec 1.1 ``key``, 1.3 items 5-7, 7.1) and JWKS entry import (4.1, 7.8)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from asgi_hasura_jwt._errors import ConfigError
from asgi_hasura_jwt._keys import key_from_config, key_from_jwk

from .conftest import SigningKey


def _certificate_pem(private_key: Any) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(
            private_key,
            None if isinstance(private_key, ed25519.Ed25519PrivateKey) else hashes.SHA256(),
        )
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_rsa_public_key_forms(keys: dict[str, SigningKey]) -> None:
    private = keys["RS256"].private
    pkcs1 = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        .decode()
    )
    assert pkcs1.startswith("-----BEGIN RSA PUBLIC KEY-----")
    for pem in (keys["RS256"].config["key"], pkcs1, _certificate_pem(private)):
        key = key_from_config("RS512", pem)
        assert key.family == "RSA"
        assert sorted(key.algorithms) == ["PS256", "PS384", "PS512", "RS256", "RS384", "RS512"]


def test_first_pem_block_counts(keys: dict[str, SigningKey]) -> None:
    rsa_pem = keys["RS256"].config["key"]
    ec_pem = keys["ES256"].config["key"]
    # A certificate chain or a file with several keys: only the first block is used.
    assert key_from_config("RS256", "leading text\n" + rsa_pem + ec_pem).family == "RSA"
    with pytest.raises(ConfigError, match="key does not match type RS256"):
        key_from_config("RS256", ec_pem + rsa_pem)


@pytest.mark.parametrize(
    ("family", "config_type", "algorithms"),
    [
        ("ES256", "ES256", ["ES256"]),
        ("ES384", "ES384", ["ES384"]),
        ("ES512", "ES512", ["ES512"]),
        ("Ed25519", "Ed25519", ["EdDSA", "Ed25519"]),
    ],
)
def test_curve_keys(
    keys: dict[str, SigningKey], family: str, config_type: str, algorithms: list[str]
) -> None:
    key = key_from_config(config_type, keys[family].config["key"])
    assert sorted(key.algorithms) == sorted(algorithms)
    certificate = key_from_config(config_type, _certificate_pem(keys[family].private))
    assert sorted(certificate.algorithms) == sorted(algorithms)


@pytest.mark.parametrize(
    ("length", "algorithms"),
    [(32, ["HS256"]), (47, ["HS256"]), (48, ["HS256", "HS384"]), (64, ["HS256", "HS384", "HS512"])],
)
def test_hmac_algorithms_follow_key_length(length: int, algorithms: list[str]) -> None:
    assert sorted(key_from_config("HS256", "k" * length).algorithms) == algorithms


def test_hmac_key_is_utf8_bytes_not_base64() -> None:
    # 11 characters of 3 UTF-8 bytes each: 33 bytes, enough for HS256 although 11 "characters".
    key = key_from_config("HS256", "\u20ac" * 11)
    assert key.key.raw_value == ("\u20ac" * 11).encode()


def _pem(public_key: Any) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize(
    ("config_type", "make", "message"),
    [
        (
            "RS256",
            lambda: _pem(rsa.generate_private_key(65537, 1024).public_key()),
            "Invalid JWK: RSA key size too small; should be atleast 2048 bits",
        ),
        (
            "ES256",
            lambda: _pem(ec.generate_private_key(ec.SECP256K1()).public_key()),
            "Invalid JWK: unsupported curve secp256k1",
        ),
        (
            "Ed25519",
            lambda: _pem(ed448.Ed448PrivateKey.generate().public_key()),
            "Invalid JWK: unsupported key type",
        ),
        ("RS256", lambda: 42, "Invalid JWK: key must be a string"),
        (
            "RS256",
            lambda: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
            "Invalid JWK: Could not decode PEM: unreadable CERTIFICATE block",
        ),
        (
            "RS256",
            lambda: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
            "Invalid JWK: Could not decode PEM: a private key was given",
        ),
    ],
)
def test_refused_static_keys(config_type: str, make: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        key_from_config(config_type, make())
    assert message in str(caught.value)


def test_jwk_import(keys: dict[str, SigningKey]) -> None:
    rsa_jwk = keys["RS256"].jose_key.as_dict(private=False)
    imported = key_from_jwk({**rsa_jwk, "kid": "k1", "use": "sig", "alg": "RS256"})
    assert not isinstance(imported, str)
    assert (imported.kid, list(imported.algorithms)) == ("k1", ["RS256"])
    # Standard base64 with padding for n/e, as some providers publish (spec 4.1).
    import base64

    def standard(value: str) -> str:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        return base64.b64encode(raw).decode()

    padded = key_from_jwk({**rsa_jwk, "n": standard(rsa_jwk["n"]), "e": standard(rsa_jwk["e"])})
    assert not isinstance(padded, str)
    assert (
        padded.key.raw_value.public_numbers() == keys["RS256"].private.public_key().public_numbers()
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"use": "enc"}, "use is not sig"),
        ({"d": "AAAA"}, "private key members present"),
        ({"key_ops": ["encrypt"]}, "key_ops does not allow verify"),
        ({"alg": "ES256"}, "alg 'ES256' does not fit a RSA key"),
        ({"kid": 5}, "kid is not a string"),
        ({"n": "!!"}, "malformed RSA key"),
        ({"kty": "oct", "k": "AAAA"}, "symmetric keys are never taken from a JWKS"),
        ({"kty": "OKP", "crv": "X25519", "x": "AAAA"}, "unsupported key type 'OKP'/'X25519'"),
    ],
)
def test_jwk_skips(keys: dict[str, SigningKey], change: dict[str, Any], reason: str) -> None:
    jwk = {**keys["RS256"].jose_key.as_dict(private=False), **change}
    assert key_from_jwk(jwk) == reason


def test_jwk_small_rsa_skipped() -> None:
    from joserfc.jwk import RSAKey

    small = rsa.generate_private_key(65537, 1024).public_key()
    jwk = RSAKey(small, small).as_dict(private=False)
    assert key_from_jwk(jwk) == "RSA key size too small; should be atleast 2048 bits"
    assert key_from_jwk("not a dict") == "not an object"
