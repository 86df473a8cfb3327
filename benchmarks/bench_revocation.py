"""The revocation check on a cache hit: what 10,000 revocations in force cost a request whose
token is cached (the issue "Sessions that end when they should").

    .venv/bin/python benchmarks/bench_revocation.py [--rounds 30] [--seconds 0.02]

`Authenticator.cached_session` (the synchronous fast path every cached request takes) is called
with a Clerk-shaped RS256 token, fresh header values each time, behind three middlewares: with
nothing revoked (the baseline: the check is one attribute test), with 10,000 entries for other
users and sessions (two dict misses), and with those plus an entry for this token's ``sub``
older than the token (the user signed in again: a hit, compared with ``iat``, accepted). Each
is timed between two batches of the baseline; the figures are paired ratios. Writes
benchmarks/results/revocation.json.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from _fixtures import BROWSER_HEADERS, clerk_token, hasura_config, inner_app, signing_key
from _report import Figure, Target, write_result
from _timing import ROUNDS, bracketed, drive, loop, paired_differences, paired_ratios

from asgi_hasura_jwt import HasuraJWTMiddleware

ENTRIES = 10_000
# "Costs nothing measurable": within the noise of a cache hit. The target is the miss's, the
# common case (the revoked are few); a request whose own sub is in the table pays one more
# lookup and comparison, reported without a target.
TARGET = Target("<=", 1.05)


def middleware(revoked: int, *, own_sub_before: str | None = None) -> HasuraJWTMiddleware:
    guarded = HasuraJWTMiddleware(inner_app(), jwt_secret=hasura_config("RS256"), environ={})
    if own_sub_before is not None:
        drive(guarded.revoke(sub=own_sub_before))  # now: before the token is minted
    for index in range(revoked // 2):
        drive(guarded.revoke(sub=f"user_{index:08d}", sid=f"sess_{index:08d}"))
    return guarded


def fast_path(guarded: HasuraJWTMiddleware, token: str) -> Callable[[], Any]:
    authenticator = guarded._core.authenticator
    credentials = [(b"authorization", f"Bearer {token}".encode())]
    drive(authenticator.authenticate([*BROWSER_HEADERS, *credentials]))  # verified, cached

    def call() -> Any:
        fresh = [(name, bytes(bytearray(value))) for name, value in credentials]
        session = authenticator.cached_session([*BROWSER_HEADERS, *fresh])
        if session is None:
            raise AssertionError("not served from the cache")
        return session

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seconds", type=float, default=0.02, help="per batch")
    args = parser.parse_args()

    signing_key("RS256")  # the key is made once and cached: not inside a revocation's second
    user = "user_2bVxQ9dTr4mYb1ZqkJH7f3EoW6s"  # clerk_token's subject
    resigned = middleware(ENTRIES, own_sub_before=user)
    time.sleep(1.1)  # iat has whole seconds: the token must be issued after that revocation
    token = clerk_token("RS256")
    empty = fast_path(middleware(0), token)
    candidates = {
        f"{ENTRIES} entries, none for this token": fast_path(middleware(ENTRIES), token),
        f"{ENTRIES} entries and its sub, revoked before it was issued": fast_path(resigned, token),
    }
    batches = {name: loop(call) for name, call in candidates.items()}
    print(f"revocation: {len(batches)} scenarios x {args.rounds} rounds ...", flush=True)
    timings = bracketed(loop(empty), batches, rounds=args.rounds, seconds=args.seconds)
    figures = []
    for index, name in enumerate(candidates):
        ratio = paired_ratios(timings.candidate[name], timings.baseline[name])
        added = paired_differences(timings.candidate[name], timings.baseline[name]).scaled(1e9)
        figures.append(
            Figure(
                "revocation",
                f"cache hit, {name} / nothing revoked (time)",
                ratio.median,
                "x",
                TARGET if index == 0 else None,
                f"IQR {ratio.low:.3f}-{ratio.high:.3f}; {added.median:+.0f} ns per request"
                f" (IQR {added.low:+.0f} to {added.high:+.0f})",
                {"ratio": ratio.as_dict(), "added_ns": added.as_dict(0)},
            )
        )
    write_result(
        "revocation",
        figures,
        rounds=args.rounds,
        batch_seconds=args.seconds,
        nothing_revoked_us=[round(t * 1e6, 3) for t in timings.baseline[next(iter(candidates))]],
    )


if __name__ == "__main__":
    main()
