"""The middleware under uvicorn on loopback: throughput relative to the bare app (issues 6, 13).

    .venv/bin/python benchmarks/bench_uvicorn.py [--epochs 5] [--rounds 5] [--duration 1]

Six candidates, each uvicorn with one worker in its own process on 127.0.0.1: the bare app,
the app behind the middleware (verified-token cache on, so every request after the first is a
cache hit), the same with the Prometheus sink of the observability issue on
(``on_event=PrometheusMetrics(registry=CollectorRegistry())``), the app behind the
middleware with the cache off (every request verifies RS256), and two references
(``_references.py``): the minimal correct cache hit, and the RS256 verification floor alone
on every request: what a reference measures bounds what any correct middleware can reach.
Every request is ``POST /graphql`` with a browser's headers and a Clerk RS256 token; any
non-200 answer fails the run.
The load generator is Debian's ``wrk`` when installed, else a bounded async httpx client (a
Python client is slower than the server it loads, so its ratios understate the difference; the
output says which was used).

Each epoch starts the servers afresh (a process's own speed varies by a few per cent with its
memory layout; fresh processes spread that over the run instead of biasing one candidate) and
warms each up for a second. Each of its rounds loads bare, one wrapped server, bare, the next,
..., bare, for ``--duration`` seconds each (the order rotates from round to round), and
compares each wrapped run with the bare runs on either side (short runs: the noise on a shared
machine comes in bursts of seconds). On two or more CPUs the servers run on the last CPU and
the load generator on the others, so they never share a core. Figures are medians of per-round
paired ratios to bare: requests per second (the target), and server CPU time per request (less
sensitive to other processes).
Writes benchmarks/results/uvicorn.json.
"""

from __future__ import annotations

import json
import os
from typing import Any

from _fixtures import inner_app
from _floor import floor
from _references import FloorOnly, MinimalHit
from _report import Target
from _servers import AUTHORIZATION_VARIABLE, Spec, main, serve_app
from cryptography.hazmat.primitives.serialization import load_pem_public_key

PROMETHEUS = "cached RS256, Prometheus sink"
MINIMAL_HIT = "reference: minimal correct hit"
FLOOR_ONLY = "reference: RS256 verification floor only"
SERVERS = ("bare", "cached RS256", PROMETHEUS, "uncached RS256", MINIMAL_HIT, FLOOR_ONLY)
# Issue 13's targets.
TARGETS = {
    "cached RS256": Target(">=", 0.98),
    PROMETHEUS: Target(">=", 0.97),
    "uncached RS256": Target(">=", 0.70),
}
# What bounds each from below: the least a correct hit does, and the least a verification does.
REFERENCES = {"cached RS256": MINIMAL_HIT, "uncached RS256": FLOOR_ONLY}
UVICORN = Spec("uvicorn", __file__, SERVERS, TARGETS, references=REFERENCES)


def serve(kind: str) -> None:
    """Run one candidate of `UVICORN`."""
    from asgi_hasura_jwt import HasuraJWTMiddleware

    app: Any = inner_app()
    authorization = os.environ[AUTHORIZATION_VARIABLE].encode()
    if kind == MINIMAL_HIT:
        app = MinimalHit(app, [(b"authorization", authorization)])
    elif kind == FLOOR_ONLY:
        secret = json.loads(os.environ["HASURA_GRAPHQL_JWT_SECRET"])
        app = FloorOnly(app, floor("RS256", load_pem_public_key(secret["key"].encode())))
    elif kind != "bare":
        # The config comes from HASURA_GRAPHQL_JWT_SECRET, as in a deployment.
        options: dict[str, Any] = {"token_cache_size": 0} if kind.startswith("uncached") else {}
        if kind == PROMETHEUS:
            from prometheus_client import CollectorRegistry

            from asgi_hasura_jwt.prometheus import PrometheusMetrics

            options["on_event"] = PrometheusMetrics(registry=CollectorRegistry())
        app = HasuraJWTMiddleware(app, **options)
    serve_app(app)


if __name__ == "__main__":
    main(UVICORN, serve, __doc__ or "")
