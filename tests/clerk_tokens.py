"""Clerk-shaped tokens with the suite's fixed names: the kinds come from
`asgi_hasura_jwt.testing` (the one source, shared with the demo's issuer); this adds the
suite's issuer, party, instance id and user, overrides, and Clerk's signing header."""

from __future__ import annotations

import json
from typing import Any

from asgi_hasura_jwt import testing

from .conftest import SigningKey, hasura_claims, mint

ISSUER = "https://clerk.example.dev"
AZP = "https://app.example.dev"
KID = "ins_2abcdefghijklmnopqrstuvwxyz"
USER = "user_2abcdefghijklmnopqrstuvwxyz"
SESSION_ID = "sess_2abcdefghijklmnopqrstuvwxyz"
MACHINE = "mch_2abcdefghijklmnopqrstuvwxyz"


def _overridden(claims: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def session_claims(issued: int | None = None, **overrides: Any) -> dict[str, Any]:
    """Clerk's default session token, version 2 (no template); ``None`` drops a claim."""
    claims = testing.clerk_session_claims(
        user_id=USER, issuer=ISSUER, azp=AZP, session_id=SESSION_ID, now=issued
    )
    return _overridden(claims, overrides)


def template_claims(issued: int | None = None, **overrides: Any) -> dict[str, Any]:
    """Clerk's Hasura JWT template: azp, exp, iat, iss, jti, nbf, sub and the namespace."""
    hasura = hasura_claims(user_id=USER, roles=["user"])
    claims = testing.clerk_claims(user_id=USER, issuer=ISSUER, azp=AZP, hasura=hasura, now=issued)
    return _overridden(claims, overrides)


def machine_claims(issued: int | None = None) -> dict[str, Any]:
    """A machine-to-machine token: the subject is the machine (mch_...)."""
    return testing.clerk_machine_claims(
        machine_id=MACHINE, issuer=ISSUER, scopes=["mch_2zyxwvutsrqponmlkjihgfedcba"], now=issued
    )


def clerk_token(key: SigningKey, claims: dict[str, Any], **header: Any) -> str:
    """Signed like Clerk: RS256, kid = the instance id; ``typ=None`` leaves typ out."""
    fields = {"alg": key.alg, "kid": KID, "typ": "JWT", **header}
    present = {name: value for name, value in fields.items() if value is not None}
    return mint(key, claims, raw_header=json.dumps(present).encode())
