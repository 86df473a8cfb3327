"""Clerk-shaped tokens for tests: session (v2), JWT-template and machine-to-machine claims,
signed as Clerk signs them (RS256 header with the instance id as kid, typ JWT, cat when given)."""

from __future__ import annotations

import json
import time
from typing import Any

from .conftest import NAMESPACE, SigningKey, hasura_claims, mint

ISSUER = "https://clerk.example.dev"
AZP = "https://app.example.dev"
KID = "ins_2abcdefghijklmnopqrstuvwxyz"
USER = "user_2abcdefghijklmnopqrstuvwxyz"


def session_claims(issued: int | None = None, **overrides: Any) -> dict[str, Any]:
    """Clerk's default session token, version 2 (no template); ``None`` drops a claim."""
    issued = int(time.time()) if issued is None else issued
    claims: dict[str, Any] = {
        "azp": AZP,
        "exp": issued + 60,
        "fva": [0, -1],
        "iat": issued,
        "iss": ISSUER,
        "jti": "3f1c0a2b9d8e7f6a5b4c",
        "nbf": issued - 10,
        "sid": "sess_2abcdefghijklmnopqrstuvwxyz",
        "sts": "active",
        "sub": USER,
        "v": 2,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def template_claims(issued: int | None = None, **overrides: Any) -> dict[str, Any]:
    """Clerk's Hasura JWT template: azp, exp, iat, iss, jti, nbf, sub and the namespace."""
    issued = int(time.time()) if issued is None else issued
    claims: dict[str, Any] = {
        "azp": AZP,
        "exp": issued + 60,
        "iat": issued,
        "iss": ISSUER,
        "jti": "9a8b7c6d5e4f3a2b1c0d",
        "nbf": issued - 5,
        "sub": USER,
        NAMESPACE: hasura_claims(user_id=USER, roles=["user"]),
    }
    claims.update(overrides)
    return claims


def machine_claims(issued: int | None = None) -> dict[str, Any]:
    """A machine-to-machine token: the subject is the machine (mch_...)."""
    issued = int(time.time()) if issued is None else issued
    return {
        "exp": issued + 3600,
        "iat": issued,
        "iss": ISSUER,
        "jti": "mt_2abcdefghijklmnopqrstuvwxyz",
        "nbf": issued,
        "sub": "mch_2abcdefghijklmnopqrstuvwxyz",
        "scopes": "mch_2zyxwvutsrqponmlkjihgfedcba",
    }


def clerk_token(key: SigningKey, claims: dict[str, Any], **header: Any) -> str:
    """Signed like Clerk: RS256, kid = the instance id; ``typ=None`` leaves typ out."""
    fields = {"alg": key.alg, "kid": KID, "typ": "JWT", **header}
    present = {name: value for name, value in fields.items() if value is not None}
    return mint(key, claims, raw_header=json.dumps(present).encode())
