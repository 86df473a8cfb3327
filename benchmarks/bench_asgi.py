"""The middleware in process, no network: what it adds to a request (issues 6 and 13).

    .venv/bin/python benchmarks/bench_asgi.py [--rounds 30] [--seconds 0.02] [--profile NAME]

A bare Starlette app (``POST /graphql``, reads the body, answers JSON) is called directly with a
prebuilt scope, ``receive`` and ``send``, alone and behind the middleware in each scenario; the
coroutine is driven without an event loop (see ``_timing.drive``), so the figures are the
middleware's own cost. In every round each scenario runs between two batches of the bare app
and is reported against them: its throughput relative to bare (paired ratio bare / wrapped)
and the time it adds per request (paired difference). Header values holding credentials are
fresh objects on every request, as a server's are, so hashing them is not skipped.

The references (``_references.py``): the minimal correct cache hit, which the cache hit's added
time is compared with, and a PyJWT-based middleware, the usual hand-written alternative. The
verification floor of each algorithm (``_floor.py``) is a candidate of the same rounds, so the
whole uncached middleware path, request minus bare request, is compared with it round by round.
``--profile NAME`` prints a cProfile of one scenario instead. Writes
benchmarks/results/asgi.json.
"""

from __future__ import annotations

import argparse
import statistics
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any

from _fixtures import (
    ADMIN_SECRET,
    BROWSER_HEADERS,
    QUERY,
    claims_map_config,
    clerk_token,
    hasura_config,
    http_scope,
    inner_app,
)
from _floor import checked as verifying
from _floor import floor
from _references import minimal, peer
from _report import Figure, Target, microseconds, write_result
from _timing import (
    ROUNDS,
    Timings,
    bracketed,
    drive,
    loop,
    paired_differences,
    paired_ratios,
    profile,
)

from asgi_hasura_jwt import HasuraJWTMiddleware

# Issue 13's targets.
CACHE_HIT = "cached RS256"
CACHE_HIT_TARGET = Target(">=", 0.88)  # throughput / bare
MINIMAL_HIT = "reference: minimal correct hit"
MINIMAL_HIT_TARGET = Target("<=", 1.5)  # time added / the minimal hit's time added
# The whole uncached middleware path (request - bare request) over the verification floor
# (`_floor.py`) measured in the same rounds: a target for RS256, reported for the others.
FLOORED = {"RS256": Target("<=", 1.5), "HS256": None, "ES256": None, "EdDSA": None}


@dataclass(frozen=True)
class Scenario:
    name: str
    wrap: Callable[[Any], Any]  # inner app -> the app to call
    credentials: list[tuple[bytes, bytes]]


@cache
def token(algorithm: str) -> str:
    """One token per algorithm, so that a scenario and its floor verify the same one."""
    return clerk_token(algorithm)


def bearer(algorithm: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", f"Bearer {token(algorithm)}".encode())]


def ours(config: dict[str, Any], **options: Any) -> Callable[[Any], Any]:
    return lambda app: HasuraJWTMiddleware(app, jwt_secret=config, environ={}, **options)


def uncached(algorithm: str) -> str:
    return f"uncached {algorithm}"


def floor_of(algorithm: str) -> str:
    return f"verification floor, {algorithm}"


UNCACHED = {"token_cache_size": 0}
SCENARIOS = [
    Scenario(
        "admin secret",
        ours(hasura_config("RS256"), admin_secret=ADMIN_SECRET),
        [(b"x-hasura-admin-secret", ADMIN_SECRET.encode()), (b"x-hasura-role", b"editor")],
    ),
    Scenario("unauthorized role", ours(hasura_config("RS256"), unauthorized_role="anonymous"), []),
    Scenario(CACHE_HIT, ours(hasura_config("RS256")), bearer("RS256")),
    Scenario(MINIMAL_HIT, minimal(bearer("RS256")), bearer("RS256")),
    *(
        Scenario(uncached(algorithm), ours(hasura_config(algorithm), **UNCACHED), bearer(algorithm))
        for algorithm in FLOORED
    ),
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


def throughput(name: str, timings: Timings) -> Figure:
    """Throughput relative to the bare app beside it, with the time added in the detail."""
    wrapped, bare = timings.candidate[name], timings.baseline[name]
    ratio = paired_ratios(bare, wrapped)
    added = paired_differences(wrapped, bare).scaled(1e6)
    return Figure(
        "asgi",
        f"{name}: throughput / bare",
        ratio.median,
        "x",
        CACHE_HIT_TARGET if name == CACHE_HIT else None,
        f"IQR {ratio.low:.3f}-{ratio.high:.3f}; +{added.median:.2f} µs per request"
        f" (IQR {added.low:.2f}-{added.high:.2f}) to {microseconds(statistics.median(bare))}",
        {"ratio": ratio.as_dict(), "added_us": added.as_dict(2)},
    )


def added(timings: Timings, name: str) -> list[float]:
    """Per round: the time ``name`` adds to the bare request beside it."""
    return [w - b for w, b in zip(timings.candidate[name], timings.baseline[name], strict=True)]


def over_minimal_hit(timings: Timings) -> Figure:
    # The ratio of the medians: the minimal hit adds a couple of µs, so a per-round ratio of
    # two such differences swings with every burst of noise.
    hit, reference = (
        paired_differences(timings.candidate[n], timings.baseline[n]).scaled(1e6)
        for n in (CACHE_HIT, MINIMAL_HIT)
    )
    return Figure(
        "asgi",
        f"{CACHE_HIT}: added / minimal correct hit's added",
        hit.median / reference.median,
        "x",
        MINIMAL_HIT_TARGET,
        f"ratio of medians: +{hit.median:.2f} µs (IQR {hit.low:.2f}-{hit.high:.2f}) vs"
        f" +{reference.median:.2f} µs (IQR {reference.low:.2f}-{reference.high:.2f})",
        {"added_us": hit.as_dict(2), "reference_added_us": reference.as_dict(2)},
    )


def over_floor(algorithm: str, timings: Timings) -> Figure:
    """The whole uncached middleware path over the verification floor, round by round."""
    name = uncached(algorithm)
    floors = timings.candidate[floor_of(algorithm)]
    ratio = paired_ratios(added(timings, name), floors)
    path = statistics.median(added(timings, name))
    return Figure(
        "asgi",
        f"{name}: (request - bare request) / verification floor",
        ratio.median,
        "x",
        FLOORED[algorithm],
        f"IQR {ratio.low:.2f}-{ratio.high:.2f}; +{microseconds(path)} vs a floor of"
        f" {microseconds(statistics.median(floors))}",
        {"ratio": ratio.as_dict()},
    )


def versus_peer(timings: Timings) -> Figure:
    # Each relative to the bare app beside it, then to each other, round by round.
    ours, theirs = (
        [t / b for t, b in zip(timings.candidate[name], timings.baseline[name], strict=True)]
        for name in (uncached("RS256"), "peer: PyJWT middleware, RS256")
    )
    ratio = paired_ratios(ours, theirs)
    return Figure(
        "asgi",
        "uncached RS256: ours / PyJWT peer (time)",
        ratio.median,
        "x",
        detail=f"IQR {ratio.low:.2f}-{ratio.high:.2f}",
        extra={"ratio": ratio.as_dict()},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seconds", type=float, default=0.02, help="per batch")
    parser.add_argument("--profile", choices=[s.name for s in SCENARIOS], help="profile one")
    args = parser.parse_args()
    # joserfc warns on every EdDSA use (RFC 9864 deprecates the name); the warning is not timed.
    warnings.simplefilter("ignore")

    app = inner_app()
    bare = checked("bare", request(app, bearer("RS256")))
    calls: dict[str, Callable[[], object]] = {}
    for scenario in SCENARIOS:
        calls[scenario.name] = checked(
            scenario.name, request(scenario.wrap(app), scenario.credentials)
        )
    if args.profile:
        profile(calls[args.profile], seconds=3.0)
        return
    for algorithm in FLOORED:
        verify = verifying(floor_of(algorithm), floor(algorithm), token(algorithm))
        calls[floor_of(algorithm)] = partial(verify, token(algorithm))
    print(f"asgi: {len(calls)} candidates x {args.rounds} rounds ...", flush=True)
    timings = bracketed(
        loop(bare),
        {name: loop(call) for name, call in calls.items()},
        rounds=args.rounds,
        seconds=args.seconds,
    )
    figures = [throughput(scenario.name, timings) for scenario in SCENARIOS]
    figures.append(over_minimal_hit(timings))
    figures += [over_floor(algorithm, timings) for algorithm in FLOORED]
    figures.append(versus_peer(timings))
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
