"""A local, Clerk-compatible development issuer: what Clerk's Frontend API does for Hasura.

It signs RS256 tokens shaped by Clerk's Hasura JWT template with a key generated at start and
publishes the public key at ``/.well-known/jwks.json``. ``POST /v1/tokens/hasura`` stands in for
``getToken({template: "hasura"})``: it mints for anyone, so it only ever listens on loopback.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from asgi_hasura_jwt._cli.mint import clerk_claims, sign

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
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._key = RSAKey(private, private)
        public = self._key.as_dict(private=False)
        self.jwks = {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}
        self.app = Starlette(
            routes=[
                Route(JWKS_PATH, self._jwks_endpoint),
                Route(TOKEN_PATH, self._token_endpoint, methods=["POST"]),
            ]
        )

    def mint(self, user_id: str = DEMO_USER_ID, azp: str | None = None) -> str:
        claims = clerk_claims(
            user_id=user_id,
            lifetime=self.lifetime,
            issuer=self.url,
            azp=azp or self.app_origins[0],
        )
        return sign(claims, self._key, "RS256", self.kid)

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
