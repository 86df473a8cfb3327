"""The middleware in process, no network: what it adds to a request (issue 6, item 2).

    .venv/bin/python benchmarks/bench_asgi.py [--rounds 25] [--seconds 0.02] [--profile NAME]

A bare Starlette app (``POST /graphql``, reads the body, answers JSON) is called directly with a
prebuilt scope, ``receive`` and ``send``, alone and behind the middleware in each scenario; the
coroutine is driven without an event loop (see ``_timing.drive``), so the figures are the
middleware's own cost. In every round each scenario runs between two batches of the bare app
and is reported against them: its throughput relative to bare (paired ratio bare / wrapped)
and the time it adds per request (paired difference). Header values holding credentials are
fresh objects on every request, as a server's are, so hashing them is not skipped.

The peer is a minimal PyJWT-based middleware (below), the usual hand-written alternative.
``--profile NAME`` prints a cProfile of one scenario instead. Writes
benchmarks/results/asgi.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt as pyjwt
from _fixtures import (
    ADMIN_SECRET,
    BROWSER_HEADERS,
    ISSUER,
    NAMESPACE,
    QUERY,
    claims_map_config,
    clerk_token,
    hasura_config,
    http_scope,
    inner_app,
    signing_key,
)
from _report import Figure, Target, microseconds, write_result
from _timing import Spread, bracketed, drive, loop, paired_differences, paired_ratios, profile

from asgi_hasura_jwt import HasuraJWTMiddleware

CACHE_HIT = "cached RS256"
CACHE_HIT_TARGETS = (Target("<=", 1.0), Target(">=", 0.91))
MINIMAL_HIT = "reference: minimal correct hit"
MINIMAL_HIT_TARGET = Target("<=", 1.5)


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


@dataclass(frozen=True)
class Scenario:
    name: str
    wrap: Callable[[Any], Any]  # inner app -> the app to call
    credentials: list[tuple[bytes, bytes]]


def bearer(algorithm: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {clerk_token(algorithm)}".encode())]


def ours(config: dict[str, Any], **options: Any) -> Callable[[Any], Any]:
    return lambda app: HasuraJWTMiddleware(app, jwt_secret=config, environ={}, **options)


def peer(algorithm: str) -> Callable[[Any], Any]:
    key = signing_key(algorithm)
    public = key.config["key"].encode() if algorithm == "HS256" else key.private.public_key()
    return lambda app: PyJWTMiddleware(app, public, key.alg)


UNCACHED = {"token_cache_size": 0}
SCENARIOS = [
    Scenario(
        "admin secret",
        ours(hasura_config("RS256"), admin_secret=ADMIN_SECRET),
        [(b"x-hasura-admin-secret", ADMIN_SECRET.encode()), (b"x-hasura-role", b"editor")],
    ),
    Scenario("unauthorized role", ours(hasura_config("RS256"), unauthorized_role="anonymous"), []),
    Scenario(CACHE_HIT, ours(hasura_config("RS256")), bearer("RS256")),
    Scenario(MINIMAL_HIT, minimal(_HIT := bearer("RS256")), _HIT),
    Scenario("uncached RS256", ours(hasura_config("RS256"), **UNCACHED), bearer("RS256")),
    Scenario("uncached ES256", ours(hasura_config("ES256"), **UNCACHED), bearer("ES256")),
    Scenario("uncached HS256", ours(hasura_config("HS256"), **UNCACHED), bearer("HS256")),
    Scenario(
        "claims_map, uncached HS256", ours(claims_map_config("HS256"), **UNCACHED), bearer("HS256")
    ),
    Scenario("peer: PyJWT middleware, RS256", peer("RS256"), bearer("RS256")),
    Scenario("peer: PyJWT middleware, HS256", peer("HS256"), bearer("HS256")),
]


def request(app: Any, credentials: list[tuple[bytes, bytes]]) -> Callable[[], int]:
    """One in-process request through ``app``; returns the response status."""
    scope = http_scope([])
    body = {"type": "http.request", "body": QUERY, "more_body": False}
    status = 0

    async def receive() -> dict[str, Any]:
        return body

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    def call() -> int:
        # A fresh scope per request, as a server makes, with fresh credential values: a bytes or
        # str object caches its hash, and a server's header values are new on every request.
        fresh = [(name, bytes(bytearray(value))) for name, value in credentials]
        drive(app({**scope, "headers": [*BROWSER_HEADERS, *fresh]}, receive, send))
        return status

    return call


def checked(name: str, call: Callable[[], int]) -> Callable[[], int]:
    status = call()
    if status != 200:
        raise AssertionError(f"{name}: status {status}, expected 200")
    return call


def figures_for(name: str, added: Spread, ratio: Spread, bare: list[float]) -> list[Figure]:
    """Throughput relative to bare, with the time added in the detail; for the cache hit, whose
    targets are both, the time added is a figure of its own."""
    added_us = added.scaled(1e6)
    time_added = (
        f"+{added_us.median:.2f} µs per request (IQR {added_us.low:.2f}-{added_us.high:.2f})"
    )
    figures = [
        Figure(
            "asgi",
            f"{name}: throughput / bare",
            ratio.median,
            "x",
            CACHE_HIT_TARGETS[1] if name == CACHE_HIT else None,
            f"IQR {ratio.low:.3f}-{ratio.high:.3f}; {time_added}",
            {"ratio": ratio.as_dict(), "added_us": added_us.as_dict(2)},
        )
    ]
    if name == CACHE_HIT:
        figures.insert(
            0,
            Figure(
                "asgi",
                f"{name}: added per request",
                added_us.median,
                " µs",
                CACHE_HIT_TARGETS[0],
                f"IQR {added_us.low:.2f}-{added_us.high:.2f} µs; the bare request itself"
                f" takes {microseconds(statistics.median(bare))} on this machine",
                {"added_us": added_us.as_dict(2)},
            ),
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=0.02, help="per batch")
    parser.add_argument("--profile", choices=[s.name for s in SCENARIOS], help="profile one")
    args = parser.parse_args()

    app = inner_app()
    bare = checked("bare", request(app, bearer("RS256")))
    calls = {}
    for scenario in SCENARIOS:
        calls[scenario.name] = checked(
            scenario.name, request(scenario.wrap(app), scenario.credentials)
        )
    if args.profile:
        profile(calls[args.profile], seconds=3.0)
        return
    print(f"asgi: {len(calls)} scenarios x {args.rounds} rounds ...", flush=True)
    timings = bracketed(
        loop(bare),
        {name: loop(call) for name, call in calls.items()},
        rounds=args.rounds,
        seconds=args.seconds,
    )
    figures = []
    for scenario in SCENARIOS:
        wrapped, bares = timings.candidate[scenario.name], timings.baseline[scenario.name]
        figures += figures_for(
            scenario.name,
            paired_differences(wrapped, bares),
            paired_ratios(bares, wrapped),
            bares,
        )
    hit, floor = (
        paired_differences(timings.candidate[name], timings.baseline[name]).median
        for name in (CACHE_HIT, MINIMAL_HIT)
    )
    figures.append(
        Figure(
            "asgi",
            f"{CACHE_HIT}: added / minimal correct hit's added",
            hit / floor,
            "x",
            MINIMAL_HIT_TARGET,
            f"+{hit * 1e6:.2f} µs vs +{floor * 1e6:.2f} µs per request (medians)",
        )
    )
    # Each relative to the bare app beside it, then to each other, round by round.
    ours, theirs = (
        [t / b for t, b in zip(timings.candidate[name], timings.baseline[name], strict=True)]
        for name in ("uncached RS256", "peer: PyJWT middleware, RS256")
    )
    versus_peer = paired_ratios(ours, theirs)
    figures.append(
        Figure(
            "asgi",
            "uncached RS256: ours / PyJWT peer (time)",
            versus_peer.median,
            "x",
            detail=f"IQR {versus_peer.low:.2f}-{versus_peer.high:.2f}",
            extra={"ratio": versus_peer.as_dict()},
        )
    )
    write_result(
        "asgi",
        figures,
        rounds=args.rounds,
        batch_seconds=args.seconds,
        per_call_us={
            name: [round(t * 1e6, 2) for t in times] for name, times in timings.candidate.items()
        },
        bare_beside_us={
            name: [round(t * 1e6, 2) for t in times] for name, times in timings.baseline.items()
        },
    )


if __name__ == "__main__":
    main()
