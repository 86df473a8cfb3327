"""Hand-written middlewares the benchmarks compare ours with: the PyJWT peer, the minimal
correct cache hit (the reference of issue 13's cache-hit targets), and the verification floor
alone on every request (what an uncached request cannot avoid, under uvicorn)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt as pyjwt
from _fixtures import ISSUER, NAMESPACE, signing_key, verifying_key
from _floor import Verify


class PyJWTMiddleware:
    """The peer: Bearer token, ``jwt.decode``, Hasura claims, role; no cache, no Hasura rules."""

    def __init__(self, app: Any, key: Any, algorithm: str) -> None:
        self.app, self.key, self.algorithms = app, key, [algorithm]

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = dict(scope["headers"])
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        try:
            claims = pyjwt.decode(token, self.key, algorithms=self.algorithms, issuer=ISSUER)
            hasura = claims[NAMESPACE]
            role = headers.get(b"x-hasura-role", b"").decode() or hasura["x-hasura-default-role"]
            if scheme.lower() != "bearer" or role not in hasura["x-hasura-allowed-roles"]:
                raise PermissionError(role)
        except Exception:
            body = b'{"errors":[{"message":"invalid token"}]}'
            await send({"type": "http.response.start", "status": 400, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        scope["hasura_session"] = {**hasura, "x-hasura-role": role}
        await self.app(scope, receive, send)


def peer(algorithm: str) -> Callable[[Any], Any]:
    public = verifying_key(algorithm)
    return lambda app: PyJWTMiddleware(app, public, signing_key(algorithm).alg)


class MinimalHit:
    """The reference for the cache hit: the least a correct hit must do, written by hand.

    One pass over the headers, one lookup keyed by the raw Authorization bytes, the validity
    window and the role check against a precomputed entry, the scope store. No admin-secret,
    case, duplicate or revocation rules: a floor, not a middleware.
    """

    def __init__(self, app: Any, credentials: list[tuple[bytes, bytes]]) -> None:
        self.app = app
        authorization = dict(credentials)[b"authorization"]
        claims = pyjwt.decode(authorization[7:], options={"verify_signature": False})
        hasura = claims[NAMESPACE]
        roles = hasura["x-hasura-allowed-roles"]
        sessions = {role: {**hasura, "x-hasura-role": role} for role in roles}
        sessions[None] = sessions[hasura["x-hasura-default-role"]]
        # (not before, expires at, sessions by requested role)
        self.entries = {authorization: (float(claims["nbf"]), float(claims["exp"]), sessions)}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        authorization = role = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"x-hasura-role":
                role = value.decode()
        entry = self.entries.get(authorization)  # type: ignore[arg-type]
        session = None
        if entry is not None and entry[0] <= time.time() < entry[1]:
            session = entry[2].get(role)
        if session is None:
            raise AssertionError("the reference serves only its own cached token")
        scope["hasura_session"] = session
        await self.app(scope, receive, send)


def minimal(credentials: list[tuple[bytes, bytes]]) -> Callable[[Any], Any]:
    return lambda app: MinimalHit(app, credentials)


class FloorOnly:
    """The reference for an uncached request: the verification floor (`_floor.floor`) on the
    Authorization header's token, nothing else: no claims, no session, no error handling."""

    def __init__(self, app: Any, verify: Verify) -> None:
        self.app, self.verify = app, verify

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        for name, value in scope["headers"]:
            if name == b"authorization":
                self.verify(value[7:].decode())
        await self.app(scope, receive, send)
