"""Claim builders for `asgi_hasura_jwt.testing`: Hasura claims, time claims, Clerk's token kinds.

Each Clerk builder gives the claims of one kind as Clerk issues it (spec 6): the Hasura JWT
template (`clerk_claims`), the default session token, version 2, with or without an active
organization, pending or not (`clerk_session_claims`), and a machine-to-machine token
(`clerk_machine_claims`). `CLERK_CATEGORIES` holds the protected header ``cat`` of each kind.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ._clerk import MACHINE_CATEGORY, SESSION_CATEGORY, TEMPLATE_CATEGORY
from ._names import DEFAULT_NAMESPACE

NAMESPACE = DEFAULT_NAMESPACE
# Clerk's tokens live 60 s; nbf a little in the past absorbs clock drift (5 s in the Hasura
# template, 10 s in session tokens). Machine tokens live an hour by default.
CLERK_LIFETIME = 60
NOT_BEFORE_LEEWAY = 5
SESSION_NOT_BEFORE_LEEWAY = 10
MACHINE_LIFETIME = 3600
CLERK_CATEGORIES: Mapping[str, str] = {
    "session": SESSION_CATEGORY,
    "template": TEMPLATE_CATEGORY,
    "machine": MACHINE_CATEGORY,
}


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


def clerk_session_claims(
    *,
    user_id: str,
    issuer: str,
    azp: str,
    session_id: str | None = None,
    organization: Mapping[str, Any] | None = None,
    pending: bool = False,
    lifetime: float = CLERK_LIFETIME,
    now: float | None = None,
) -> dict[str, Any]:
    """Clerk's default session token, version 2 (no template): ``azp exp fva iat iss jti nbf
    sid sts sub v``, plus ``o`` (the active organization as Clerk writes it, e.g. ``{"id":
    "org_1", "slg": "acme", "rol": "admin"}``) when ``organization`` is given. ``pending``
    makes ``sts`` ``"pending"``: a session with a task left (Clerk counts it as signed out).
    ``session_id`` defaults to a fresh ``sess_…``."""
    claims: dict[str, Any] = {
        **registered_claims(lifetime, now=now, leeway=SESSION_NOT_BEFORE_LEEWAY),
        "azp": azp,
        "fva": [0, -1],  # minutes since the first and second factor verification; -1: never
        "iss": issuer,
        "jti": secrets.token_hex(10),
        "sid": session_id if session_id is not None else f"sess_{secrets.token_hex(12)}",
        "sts": "pending" if pending else "active",
        "sub": user_id,
        "v": 2,
    }
    if organization is not None:
        claims["o"] = dict(organization)
    return dict(sorted(claims.items()))


def clerk_machine_claims(
    *,
    machine_id: str,
    issuer: str,
    scopes: Sequence[str] = (),
    lifetime: float = MACHINE_LIFETIME,
    now: float | None = None,
) -> dict[str, Any]:
    """A Clerk machine-to-machine token: ``sub`` is the machine (``mch_…``), ``scopes`` the
    machines it may call (space-separated), ``jti`` a fresh ``mt_…``; no ``azp``."""
    claims: dict[str, Any] = {
        **registered_claims(lifetime, now=now, leeway=0),
        "iss": issuer,
        "jti": f"mt_{secrets.token_hex(12)}",
        "scopes": " ".join(scopes),
        "sub": machine_id,
    }
    return dict(sorted(claims.items()))
