"""``make demo-check``: the newcomer's path through the demo, asserted step by step.

mint (the issuer's token endpoint) → ``query { __typename }`` → ``me`` → refusals → a
subscription closed by the middleware at the token's expiry → the expired token refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import anyio
import httpx
from joserfc.jws import extract_compact
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from asgi_hasura_jwt.testing import NAMESPACE, b64url

from .app import GRAPHQL_PATH
from .issuer import DEMO_USER_ID, JWKS_PATH, TOKEN_PATH

EXPIRED_CLOSE = (4403, '{"message":"4403: Forbidden: JWT expired"}')
STEP_TIMEOUT = 10.0


class CheckFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class Check:
    http: httpx.AsyncClient  # open while `run` runs

    def __init__(
        self, app_url: str, issuer_url: str, lifetime: int, out: Callable[[str], None]
    ) -> None:
        self.app_url = app_url
        self.issuer_url = issuer_url
        self.lifetime = lifetime
        self.out = out
        self.kid = ""  # learnt from the JWKS step
        self.expired_token = ""  # the subscription step's token, expired once it ends

    async def run(self) -> bool:
        started = time.monotonic()
        steps = [
            ("JWKS served with Cache-Control", self.jwks),
            ("token has the Clerk Hasura template shape", self.token_shape),
            ('query { __typename } answers {"data":{"__typename":"query_root"}}', self.typename),
            ("query { me } returns the session", self.me),
            ("no token: 400 invalid-headers", self.no_token),
            ("tampered token: 400 invalid-jwt", self.tampered),
            ("subscription ticks, then is closed 4403 at expiry", self.subscription),
            ("the expired token is refused over HTTP", self.expired),
        ]
        async with httpx.AsyncClient(timeout=STEP_TIMEOUT) as self.http:
            for name, step in steps:
                try:
                    with anyio.fail_after(STEP_TIMEOUT + self.lifetime):
                        await step()
                except (CheckFailed, TimeoutError, httpx.HTTPError, OSError) as exc:
                    self.out(f"FAIL  {name}: {type(exc).__name__}: {exc}")
                    return False
                self.out(f"ok    {name}")
        self.out(f"demo check passed ({len(steps)} steps, {time.monotonic() - started:.1f} s)")
        return True

    async def mint(self) -> str:
        response = await self.http.post(f"{self.issuer_url}{TOKEN_PATH}")
        expect(response.status_code == 200, f"token endpoint: HTTP {response.status_code}")
        token: str = response.json()["jwt"]
        return token

    async def graphql(self, query: str, token: str | None) -> httpx.Response:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return await self.http.post(
            f"{self.app_url}{GRAPHQL_PATH}", json={"query": query}, headers=headers
        )

    async def jwks(self) -> None:
        response = await self.http.get(f"{self.issuer_url}{JWKS_PATH}")
        expect(response.status_code == 200, f"HTTP {response.status_code}")
        expect("max-age" in response.headers.get("cache-control", ""), "no max-age")
        (key,) = response.json()["keys"]
        expect(key["kty"] == "RSA" and key["alg"] == "RS256", f"unexpected key {key['kty']}")
        self.kid = key["kid"]

    async def token_shape(self) -> None:
        token = extract_compact((await self.mint()).encode())
        header = token.headers()
        expect(header.get("alg") == "RS256", "alg is not RS256")
        expect(header.get("kid") == self.kid, "kid is not the JWKS key's")
        claims = _claims(token.payload)
        names = {"azp", "exp", "iat", "iss", "jti", "nbf", "sub", NAMESPACE}
        expect(set(claims) == names, f"claims {sorted(claims)}")
        expect(claims["iss"] == self.issuer_url, "iss is not the issuer URL")
        expect(
            claims[NAMESPACE]
            == {
                "x-hasura-user-id": claims["sub"],
                "x-hasura-default-role": "user",
                "x-hasura-allowed-roles": ["user"],
            },
            f"Hasura claims {claims[NAMESPACE]}",
        )
        expect(claims["nbf"] == claims["iat"] - 5, "nbf is not 5 s before iat")
        expect(claims["exp"] - claims["iat"] == self.lifetime, "lifetime")

    async def typename(self) -> None:
        response = await self.graphql("query { __typename }", await self.mint())
        expect(response.status_code == 200, f"HTTP {response.status_code}: {response.text}")
        expect(response.json() == {"data": {"__typename": "query_root"}}, response.text)

    async def me(self) -> None:
        response = await self.graphql("query { me }", await self.mint())
        expected = {"x-hasura-user-id": DEMO_USER_ID, "x-hasura-role": "user"}
        expect(response.json() == {"data": {"me": expected}}, response.text)

    async def refused(self, token: str | None, code: str, message: str) -> None:
        response = await self.graphql("query { __typename }", token)
        error = {"message": message, "extensions": {"path": "$", "code": code}}
        expect(response.status_code == 400, f"HTTP {response.status_code}")
        expect(response.json() == {"errors": [error]}, response.text)

    async def no_token(self) -> None:
        await self.refused(
            None,
            "invalid-headers",
            "Missing 'Authorization' or 'Cookie' header in JWT authentication mode",
        )

    async def tampered(self) -> None:
        head, payload, signature = (await self.mint()).split(".")
        # Another user id in the payload; the signature no longer matches.
        claims = _claims(extract_compact(f"{head}.{payload}.{signature}".encode()).payload)
        claims[NAMESPACE]["x-hasura-user-id"] = "user_admin"
        forged = b64url(json.dumps(claims).encode())
        await self.refused(
            f"{head}.{forged}.{signature}",
            "invalid-jwt",
            "Could not verify JWT: JWSError JWSInvalidSignature",
        )

    async def subscription(self) -> None:
        token = await self.mint()
        expires_at = _claims(extract_compact(token.encode()).payload)["exp"]
        ticks: list[dict[str, Any]] = []
        url = f"ws{self.app_url.removeprefix('http')}{GRAPHQL_PATH}"
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
            init = {"Authorization": f"Bearer {token}"}
            await ws.send(json.dumps({"type": "connection_init", "payload": {"headers": init}}))
            ack = json.loads(await ws.recv())
            expect(ack["type"] == "connection_ack", f"init answered {ack}")
            query = "subscription { session(interval: 0.5) { tick session } }"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            try:
                async for frame in ws:
                    message = json.loads(frame)
                    expect(message["type"] == "next", f"unexpected frame {message}")
                    ticks.append(message["payload"]["data"]["session"])
            except ConnectionClosed:
                pass
            closed_at = time.time()
            close = (ws.close_code, ws.close_reason)
        expect(close == EXPIRED_CLOSE, f"closed with {close}, expected {EXPIRED_CLOSE}")
        expect(bool(ticks), "no tick before the close")
        expect(ticks[0]["session"]["x-hasura-user-id"] == DEMO_USER_ID, f"tick {ticks[0]}")
        # At exp exactly (allowed_skew 0): not before, and promptly after.
        expect(expires_at - 0.1 <= closed_at <= expires_at + 2, "closed at the wrong time")
        self.expired_token = token

    async def expired(self) -> None:
        await self.refused(self.expired_token, "invalid-jwt", "Could not verify JWT: JWTExpired")


def _claims(payload: bytes) -> dict[str, Any]:
    # What the token says, unverified: the middleware is what the check puts to the test.
    claims: dict[str, Any] = json.loads(payload)
    return claims
