"""A local, Clerk-compatible development issuer: what Clerk's Frontend API does for Hasura.

It signs RS256 tokens of every Clerk kind with a key generated at start and publishes the
public key at ``/.well-known/jwks.json``. Each token endpoint mints for anyone, so the issuer
only ever listens on loopback:

- ``POST /v1/tokens/hasura``: ``getToken({template: "hasura"})``, the Hasura JWT template;
- ``POST /v1/tokens/session``: ``getToken()``, the session token (version 2); ``?org=1`` with
  an active organization, ``?pending=1`` for a session with a task left (``sts: pending``);
- ``POST /v1/tokens/m2m``: a machine-to-machine token.

Every endpoint takes ``?user_id=`` (the machine id for ``m2m``) and ``?format=jwt`` (the bare
token instead of ``{"object": "token", "jwt": ...}``).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from asgi_hasura_jwt import testing

JWKS_PATH = "/.well-known/jwks.json"
TOKEN_PATH = "/v1/tokens/hasura"
SESSION_PATH = "/v1/tokens/session"
M2M_PATH = "/v1/tokens/m2m"
DEMO_USER_ID = "user_demo"
DEMO_MACHINE_ID = "mch_demo"
# The active organization of ?org=1, as Clerk writes it in a version 2 session token.
DEMO_ORGANIZATION = {"id": "org_demo", "slg": "demo", "rol": "admin"}
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
                *(
                    Route(path, self._token_endpoint, methods=["POST"])
                    for path in (TOKEN_PATH, SESSION_PATH, M2M_PATH)
                ),
            ]
        )

    def mint(
        self,
        user_id: str = DEMO_USER_ID,
        azp: str | None = None,
        *,
        kind: str = "template",
        organization: bool = False,
        pending: bool = False,
    ) -> str:
        """A token of ``kind`` (``template``, ``session``, ``machine``), with Clerk's ``cat``.

        ``organization`` and ``pending`` shape a session token; a machine token has no ``azp``
        and ``user_id`` is its machine id.
        """
        claims: dict[str, Any]
        if kind == "machine":
            claims = testing.clerk_machine_claims(machine_id=user_id, issuer=self.url)
        elif kind == "session":
            claims = testing.clerk_session_claims(
                user_id=user_id,
                issuer=self.url,
                azp=azp or self.app_origins[0],
                organization=DEMO_ORGANIZATION if organization else None,
                pending=pending,
                lifetime=self.lifetime,
            )
        else:
            claims = testing.clerk_claims(
                user_id=user_id,
                lifetime=self.lifetime,
                issuer=self.url,
                azp=azp or self.app_origins[0],
            )
        header = {"cat": testing.CLERK_CATEGORIES[kind]}
        return testing.mint(self._key, claims, header=header)

    async def _jwks_endpoint(self, request: Request) -> Response:
        return JSONResponse(self.jwks, headers={"Cache-Control": JWKS_CACHE_CONTROL})

    async def _token_endpoint(self, request: Request) -> Response:
        origin = request.headers.get("origin")
        allowed = origin in self.app_origins
        # As Clerk does, the token names the page that asked for it (azp); the middleware's
        # authorized_parties checks it.
        query = request.query_params
        kind = {SESSION_PATH: "session", M2M_PATH: "machine"}.get(request.url.path, "template")
        default_id = DEMO_MACHINE_ID if kind == "machine" else DEMO_USER_ID
        token = self.mint(
            query.get("user_id", default_id),
            origin if allowed else None,
            kind=kind,
            organization=query.get("org") == "1",
            pending=query.get("pending") == "1",
        )
        headers = {"Cache-Control": "no-store", "Vary": "Origin"}
        if allowed:
            # CORS for the demo page only: the POST has no body and no custom header, so the
            # browser sends no preflight.
            headers["Access-Control-Allow-Origin"] = origin or ""
        if request.query_params.get("format") == "jwt":
            return PlainTextResponse(token, headers=headers)
        return JSONResponse({"object": "token", "jwt": token}, headers=headers)
