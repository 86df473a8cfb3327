"""A local, Clerk-compatible development issuer: what Clerk's Frontend API does for Hasura.

It signs RS256 tokens shaped by Clerk's Hasura JWT template with a key generated at start and
publishes the public key at ``/.well-known/jwks.json``. ``POST /v1/tokens/hasura`` stands in for
``getToken({template: "hasura"})``: it mints for anyone, so it only ever listens on loopback.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from asgi_hasura_jwt import testing

JWKS_PATH = "/.well-known/jwks.json"
TOKEN_PATH = "/v1/tokens/hasura"
DEMO_USER_ID = "user_demo"
# The middleware refreshes the key set when this max-age runs out (spec 4.2).
JWKS_CACHE_CONTROL = "public, max-age=300"


class DevIssuer:
    """``url`` is the ``iss`` (Clerk: the Frontend API URL); ``app_origins`` may fetch tokens
    from a browser and become the token's ``azp``, the first one by default.
    """

    def __init__(self, url: str, app_origins: Sequence[str], lifetime: int) -> None:
        self.url = url
        self.app_origins = tuple(app_origins)
        self.lifetime = lifetime
        # Clerk's kid is its instance id ("ins_..."); a fresh key and id each start.
        self.kid = f"ins_dev{secrets.token_hex(8)}"
        self._key = testing.SigningKey.generate("RS256", kid=self.kid)
        self.jwks = {"keys": [self._key.jwk()]}
        self.app = Starlette(
            routes=[
                Route(JWKS_PATH, self._jwks_endpoint),
                Route(TOKEN_PATH, self._token_endpoint, methods=["POST"]),
            ]
        )

    def mint(self, user_id: str = DEMO_USER_ID, azp: str | None = None) -> str:
        claims = testing.clerk_claims(
            user_id=user_id,
            lifetime=self.lifetime,
            issuer=self.url,
            azp=azp or self.app_origins[0],
        )
        return testing.mint(self._key, claims)

    async def _jwks_endpoint(self, request: Request) -> Response:
        return JSONResponse(self.jwks, headers={"Cache-Control": JWKS_CACHE_CONTROL})

    async def _token_endpoint(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        allowed = origin in self.app_origins
        # As Clerk does, the token names the page that asked for it (azp); the middleware's
        # authorized_parties checks it.
        token = self.mint(
            request.query_params.get("user_id", DEMO_USER_ID), origin if allowed else None
        )
        headers = {"Cache-Control": "no-store", "Vary": "Origin"}
        if allowed:
            # CORS for the demo page only: the POST has no body and no custom header, so the
            # browser sends no preflight.
            headers["Access-Control-Allow-Origin"] = origin or ""
        if request.query_params.get("format") == "jwt":
            return PlainTextResponse(token, headers=headers)
        return JSONResponse({"object": "token", "jwt": token}, headers=headers)
