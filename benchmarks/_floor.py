"""The verification floor: what no verifier can skip, for bench_verify.py and bench_asgi.py;
and `checked`, which shows that a verifier being timed does verify.

Split the token, base64url-decode the three segments, json.loads header and payload, and the
one ``cryptography`` verify call on the signing input (for ES256 also the JWS r‖s -> DER
conversion that call needs; for HS256 the stdlib's one-shot ``hmac.digest``, faster than any
HMAC object). No claim is checked.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from typing import Any

from _fixtures import verifying_key
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

Verify = Callable[[str], object]  # raises when the token does not verify

_URLSAFE_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def _b64url(segment: bytes) -> bytes:
    # The cheapest decode: one translate and binascii, without base64.py's wrappers or checks.
    return binascii.a2b_base64(segment.translate(_URLSAFE_TO_STANDARD) + b"=" * (-len(segment) % 4))


def floor(algorithm: str, public: Any = None) -> Verify:
    """The parsing and the one crypto call no verifier can avoid. ``public`` is the verifying
    key (HS256: the secret's bytes); by default, the fixtures' key of ``algorithm``."""
    if public is None:
        public = verifying_key(algorithm)
    check: Callable[[bytes, bytes], None]
    if algorithm == "HS256":
        secret = public

        def check(signature: bytes, message: bytes) -> None:
            if not hmac.compare_digest(hmac.digest(secret, message, "sha256"), signature):
                raise ValueError("bad signature")

    elif algorithm == "RS256":
        pkcs1, sha256 = padding.PKCS1v15(), hashes.SHA256()

        def check(signature: bytes, message: bytes) -> None:
            public.verify(signature, message, pkcs1, sha256)

    elif algorithm == "ES256":
        ecdsa = ec.ECDSA(hashes.SHA256())

        def check(signature: bytes, message: bytes) -> None:
            r = int.from_bytes(signature[:32], "big")
            s = int.from_bytes(signature[32:], "big")
            public.verify(encode_dss_signature(r, s), message, ecdsa)

    else:
        check = public.verify

    def verify(token: str) -> None:
        data = token.encode()
        header, payload, signature = data.split(b".")
        json.loads(_b64url(header))
        json.loads(_b64url(payload))
        check(_b64url(signature), data[: len(header) + 1 + len(payload)])

    return verify


def tampered(token: str) -> str:
    head, _, signature = token.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"


def checked(name: str, verify: Verify, token: str) -> Verify:
    """``verify``, after proving that it accepts ``token`` and rejects a forged signature."""
    verify(token)
    try:
        verify(tampered(token))
    except Exception:
        return verify
    raise AssertionError(f"{name} accepted a forged signature")
