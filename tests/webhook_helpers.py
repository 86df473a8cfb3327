"""Shared material for the webhook tests: the app under uvicorn on loopback, asked in either of
Hasura's modes with httpx."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from asgi_hasura_jwt.testing import NAMESPACE, SigningKey, hasura_claims, mint
from asgi_hasura_jwt.webhook import create_app

from .conftest import HMAC_SECRET
from .servers import serve

MODES = ("GET", "POST")
NOW = float(int(time.time()))
KEY = SigningKey.hmac(HMAC_SECRET)
ISSUER = "https://issuer.example"
CONFIG = {**KEY.config, "issuer": ISSUER}


def claims(**overrides: Any) -> dict[str, Any]:
    """A token's claims at `NOW`: 90 s left, our issuer, "user" and "editor" allowed."""
    base: dict[str, Any] = {
        "sub": "user-1",
        "iss": ISSUER,
        "iat": NOW - 5,
        "exp": NOW + 90,
        NAMESPACE: hasura_claims("user-1", ["user", "editor"], **{"x-hasura-org-id": "42"}),
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def token(**overrides: Any) -> str:
    return mint(KEY, claims(**overrides))


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


async def ask(
    client: httpx.AsyncClient, mode: str, headers: Mapping[str, str], path: str = "/auth"
) -> httpx.Response:
    """One call as Hasura makes it: the client's headers as headers (GET) or in the body."""
    if mode == "GET":
        return await client.get(path, headers=dict(headers))
    body = {"headers": dict(headers), "request": {"query": "{ me { id } }", "variables": {}}}
    return await client.post(path, json=body)


def error(response: httpx.Response) -> tuple[int, str, str]:
    """(status, code, message) of Hasura's error body."""
    (item,) = response.json()["errors"]
    assert item["extensions"]["path"] == "$"
    return response.status_code, item["extensions"]["code"], item["message"]


@asynccontextmanager
async def webhook(**options: Any) -> AsyncIterator[httpx.AsyncClient]:
    """`create_app(**options)` (our HMAC config, the clock at `NOW`) under uvicorn, lifespan on;
    yields a client for it."""
    options = {"jwt_secret": CONFIG, "environ": {}, "clock": lambda: NOW, **options}
    async with (
        serve(create_app(**options), lifespan="on") as base,
        httpx.AsyncClient(base_url=base, trust_env=False) as client,
    ):
        yield client
