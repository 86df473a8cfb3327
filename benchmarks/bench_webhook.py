"""The auth webhook under uvicorn on loopback: /auth throughput next to a bare 200 endpoint.

    .venv/bin/python benchmarks/bench_webhook.py [--epochs 5] [--rounds 5] [--duration 1]

Three candidates, each uvicorn with one worker in its own process on 127.0.0.1: a bare ASGI app
answering every request 200 with a small JSON body, the webhook (``create_app``) with its
verified-token cache (every request after the first is a cache hit), and the webhook with the
cache off (every request verifies RS256). Every request is Hasura's GET mode: ``GET /auth``
with a browser's headers and a Clerk RS256 token. The servers, load generators (wrk, else
httpx), rounds and paired ratios are bench_uvicorn.py's (`_servers`, `_load`). The ratios to a
handler that does nothing are shown without targets; the target is the server CPU time per
cached request (the issue's "well under a millisecond"). Writes benchmarks/results/webhook.json.
"""

from __future__ import annotations

from typing import Any

from _report import Target
from _servers import Spec, main, serve_app

KINDS = ("bare 200", "cached /auth", "uncached /auth")
WEBHOOK = Spec(
    "webhook",
    __file__,
    KINDS,
    {},  # the ratios to a handler that does nothing are shown, not targets
    path="/auth",
    method="GET",
    body=None,
    cpu_targets={"cached /auth": Target("<", 1000.0)},
)
_BODY = b'{"X-Hasura-Role":"user"}'


async def bare(scope: Any, receive: Any, send: Any) -> None:
    """The baseline: what any ASGI endpoint costs under uvicorn, with nothing to check."""
    if scope["type"] != "http":
        return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"24")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": _BODY})


def serve(kind: str) -> None:
    """Run one candidate; the webhook reads HASURA_GRAPHQL_JWT_SECRET, as `serve` does."""
    from asgi_hasura_jwt.webhook import create_app

    if kind == "bare 200":
        serve_app(bare)
    else:
        serve_app(create_app(token_cache_size=0 if kind.startswith("uncached") else 1024))


if __name__ == "__main__":
    main(WEBHOOK, serve, __doc__ or "")
