"""The middleware under uvicorn on loopback: throughput relative to the bare app (issue 6, item 3).

    .venv/bin/python benchmarks/bench_uvicorn.py [--epochs 5] [--rounds 5] [--duration 1]

Three candidates, each uvicorn with one worker in its own process on 127.0.0.1: the bare app,
the app behind the middleware (verified-token cache on, so every request after the first is a
cache hit), and the app behind the middleware with the cache off (every request verifies
RS256). Every request is ``POST /graphql`` with a browser's headers and a Clerk RS256 token; any
non-200 answer fails the run. The load generator is Debian's ``wrk`` when installed, else a
bounded async httpx client (a Python client is slower than the server it loads, so its ratios
understate the difference; the output says which was used).

Each epoch starts the three servers afresh (a process's own speed varies by a few per cent with
its memory layout; fresh processes spread that over the run instead of biasing one candidate)
and warms each up for a second. Each of its rounds loads bare, one wrapped server, bare, the
other, bare, for ``--duration`` seconds each, and compares each wrapped run with the bare runs
on either side (short runs: the noise on a shared machine comes in bursts of seconds). On two
or more CPUs the servers run on the last CPU and the load generator on the others, so they
never share a core. Figures are medians of per-round paired ratios to bare: requests per second
(the target), and server CPU time per request (less sensitive to other processes).
Writes benchmarks/results/uvicorn.json.
"""

from __future__ import annotations

from typing import Any

from _fixtures import inner_app
from _report import Target
from _servers import Spec, main, serve_app

SERVERS = ("bare", "cached RS256", "uncached RS256")
TARGETS = {"cached RS256": Target(">=", 0.98), "uncached RS256": Target(">=", 0.70)}
UVICORN = Spec("uvicorn", __file__, SERVERS, TARGETS)


def serve(kind: str) -> None:
    """Run one candidate of `UVICORN`."""
    from asgi_hasura_jwt import HasuraJWTMiddleware

    app: Any = inner_app()
    if kind != "bare":
        # The config comes from HASURA_GRAPHQL_JWT_SECRET, as in a deployment.
        options = {"token_cache_size": 0} if kind.startswith("uncached") else {}
        app = HasuraJWTMiddleware(app, **options)
    serve_app(app)


if __name__ == "__main__":
    main(UVICORN, serve, __doc__ or "")
