"""Keys, tokens, configs and the inner app shared by the benchmarks.

Keys and tokens come from `asgi_hasura_jwt.testing`, the factory the tests use, so a benchmark
signs what the tests sign. The payload is what Clerk's Hasura template issues (spec 6), plus the
``sid`` the ``claims_map`` benchmark maps, signed with a ``kid``.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

from _report import ROOT

sys.path.insert(0, str(ROOT))  # the checkout's package, installed or not

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from asgi_hasura_jwt.testing import NAMESPACE, SigningKey, clerk_claims, mint

ISSUER = "https://clerk.example.com"  # a Clerk Frontend API URL
AUTHORIZED_PARTY = "https://app.example.com"
ADMIN_SECRET = "benchmark-admin-secret"
# Benchmark name -> the key's config type; the key's own alg is what the token uses.
ALGORITHMS = {"HS256": "HS256", "RS256": "RS256", "ES256": "ES256", "EdDSA": "Ed25519"}
LIFETIME = 3600.0  # long enough for a whole `make bench`

# The header set a browser sends with a GraphQL POST, before the credentials.
BROWSER_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0 Safari"),
    (b"accept", b"application/graphql-response+json, application/json"),
    (b"accept-encoding", b"gzip, deflate, br"),
    (b"accept-language", b"en-GB,en;q=0.9"),
    (b"content-type", b"application/json"),
    (b"content-length", b"44"),
    (b"origin", AUTHORIZED_PARTY.encode()),
    (b"referer", AUTHORIZED_PARTY.encode() + b"/dashboard"),
]
QUERY = b'{"query":"query { me { id name } }"}'


@cache
def signing_key(algorithm: str) -> SigningKey:
    # Any other config type (HS512, ES384 ...) names its own key.
    return SigningKey.generate(ALGORITHMS.get(algorithm, algorithm), kid="ins_2bVx")


def verifying_key(algorithm: str) -> Any:
    """What verifies ``algorithm``'s tokens: the public key, or HS256's secret as bytes."""
    key = signing_key(algorithm)
    return key.config["key"].encode() if algorithm == "HS256" else key.private.public_key()


def clerk_token(algorithm: str, lifetime: float = LIFETIME) -> str:
    claims = clerk_claims(
        user_id="user_2bVxQ9dTr4mYb1ZqkJH7f3EoW6s",
        issuer=ISSUER,
        azp=AUTHORIZED_PARTY,
        lifetime=lifetime,
    )
    return mint(signing_key(algorithm), {**claims, "sid": "sess_2bVxR4kQGm0ZJwV3vG8hX9yLp1N"})


def hasura_config(algorithm: str, **options: Any) -> dict[str, Any]:
    """The ``HASURA_GRAPHQL_JWT_SECRET`` object for ``algorithm``'s key, with Clerk's issuer."""
    return {**signing_key(algorithm).config, "issuer": ISSUER, **options}


def claims_map_config(algorithm: str) -> dict[str, Any]:
    """A ``claims_map`` config: literals, paths into the namespace, a path with a default."""
    base = f"$['{NAMESPACE}']"
    return hasura_config(
        algorithm,
        claims_map={
            "x-hasura-allowed-roles": {"path": f"{base}['x-hasura-allowed-roles']"},
            "x-hasura-default-role": {"path": f"{base}['x-hasura-default-role']"},
            "x-hasura-user-id": {"path": "$.sub"},
            "x-hasura-session-id": {"path": "$.sid"},
            "x-hasura-org-id": {"path": "$.org.id", "default": "personal"},
        },
    )


async def graphql(request: Request) -> JSONResponse:
    # Reads the body as a GraphQL server would; the same work with and without the middleware.
    await request.body()
    return JSONResponse({"data": {"me": {"id": "1", "name": "Ada"}}})


def inner_app() -> Starlette:
    """The bare app every benchmark wraps."""
    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


def http_scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    """An ASGI HTTP scope for ``POST /graphql`` as uvicorn builds it."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
